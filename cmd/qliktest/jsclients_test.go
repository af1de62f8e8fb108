package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/provision"
	"github.com/qsjwt/qsjwt/qliktest"
)

// TestQlikJSClients runs Qlik's own JavaScript clients, pinned in
// testdata/js (@qlik/api 2.19.0, enigma.js 2.15.0, ws), against this
// command as a user would: qliktest serves, qs-jwt's provision package sets
// the tenant and the site up, qsjwt signs the tokens, and Node scripts log in
// and read the sample app over the engine WebSocket. Qlik Cloud OAuth runs
// as @qlik/api offers it in Node (authType "oauth2" with a client secret:
// it has no Private Key JWT): client credentials, and impersonation by
// subject of a user the client creates.
func TestQlikJSClients(t *testing.T) {
	dir := jsClients(t)
	e, client := startQliktest(t)
	ctx := context.Background()

	certPEM, err := os.ReadFile("../../testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	block, _ := pem.Decode(certPEM)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	signer, err := qsjwt.SignerFromPEMFile("../../testdata/test-only-rsa2048-pkcs8.pem")
	require.NoError(t, err)

	t.Run("QSEoW windowscookie", func(t *testing.T) {
		clientCert, err := os.ReadFile(e.QSEoW.ClientCert)
		require.NoError(t, err)
		clientKey, err := os.ReadFile(e.QSEoW.ClientKey)
		require.NoError(t, err)
		qrs, err := provision.NewQRS(e.QSEoW.QRSURL, clientCert, clientKey, rootsOf(t, e.CAFile))
		require.NoError(t, err)
		_, err = qrs.Setup(ctx, provision.VirtualProxy{Prefix: "jwt", Certificate: cert})
		require.NoError(t, err)
		b, err := qsjwt.NewQSEoW(signer)
		require.NoError(t, err)
		tok, err := b.Sign(ctx, qsjwt.QSEoWUser{UserDirectory: "CORP", UserID: "anna"})
		require.NoError(t, err)

		out, _ := runNode(t, dir, "qseow-windowscookie.mjs", e.CAFile, map[string]any{"host": e.QSEoW.URL + "/jwt", "token": tok.Raw, "appId": e.AppID})
		assert.Equal(t, map[string]any{"title": qliktest.SampleAppTitle, "sheets": toAny(qliktest.SampleSheets),
			"user": "UserDirectory=CORP; UserId=anna", "engineVersion": qliktest.EngineVersion, "tokens": 1.0}, out)

		// @qlik/api's own JSON-RPC channel instead of enigma.js.
		out, _ = runNode(t, dir, "qseow-windowscookie.mjs", e.CAFile, map[string]any{"host": e.QSEoW.URL + "/jwt", "token": tok.Raw, "appId": e.AppID, "autoResume": true})
		assert.Equal(t, map[string]any{"title": qliktest.SampleAppTitle, "sheets": toAny(qliktest.SampleSheets),
			"user": "UserDirectory=CORP; UserId=anna", "engineVersion": qliktest.EngineVersion, "tokens": 1.0}, out, "autoResume")

		// A token the proxy refuses: no cookie, and @qlik/api says so.
		late, err := qsjwt.NewQSEoW(signer, qsjwt.WithClock(func() time.Time { return time.Now().Add(-2 * time.Hour) }))
		require.NoError(t, err)
		old, err := late.Sign(ctx, qsjwt.QSEoWUser{UserDirectory: "CORP", UserID: "anna"})
		require.NoError(t, err)
		out, code := runNode(t, dir, "qseow-windowscookie.mjs", e.CAFile, map[string]any{"host": e.QSEoW.URL + "/jwt", "token": old.Raw, "appId": e.AppID})
		assert.Equal(t, 1, code)
		assert.Contains(t, errorMessage(out), "Failed to exchange access token for cookie", "an expired token opens no session")
	})

	t.Run("Cloud", func(t *testing.T) {
		admin, err := provision.NewCloud(e.Cloud.URL, e.Cloud.APIKey, client)
		require.NoError(t, err)
		_, err = admin.Setup(ctx, provision.CloudSetup{Issuer: "qsjwt-js-test", KeyID: "js-key-1", Certificate: cert})
		require.NoError(t, err)

		out, _ := runNode(t, dir, "cloud-apikey.mjs", e.CAFile, map[string]any{"host": e.Cloud.URL, "apiKey": e.Cloud.APIKey})
		assert.Equal(t, map[string]any{"status": 200.0, "idps": []any{
			map[string]any{"protocol": "jwtAuth", "issuer": "qsjwt-js-test", "kid": "js-key-1"}}}, out)
		out, code := runNode(t, dir, "cloud-apikey.mjs", e.CAFile, map[string]any{"host": e.Cloud.URL, "apiKey": "not-the-key"})
		assert.Equal(t, 1, code)
		assert.Equal(t, 401.0, out["error"].(map[string]any)["status"], "a wrong API key: %v", out)

		b, err := qsjwt.NewCloud(signer, "qsjwt-js-test", "js-key-1")
		require.NoError(t, err)
		tok, err := b.Sign(ctx, qsjwt.CloudUser{Subject: "anna-1", Name: "Anna", Email: "anna@example.com", EmailVerified: true})
		require.NoError(t, err)
		out, _ = runNode(t, dir, "cloud-enigma.mjs", e.CAFile, map[string]any{"host": e.Cloud.URL, "token": tok.Raw, "appId": e.AppID})
		assert.Equal(t, map[string]any{"sessionState": "SESSION_CREATED", "engineVersion": qliktest.EngineVersion,
			"title": qliktest.SampleAppTitle, "sameLayoutAgain": true, "sheets": toAny(qliktest.SampleSheets),
			"unknownMethod": map[string]any{"code": -32601.0, "message": "Method not found"}}, out)
	})

	t.Run("Cloud oauth2", func(t *testing.T) {
		// An admin registers the OAuth client through the admin API with
		// the tenant's API key, as for a real tenant.
		body := `{"appType":"web","clientName":"qsjwt-js-oauth2","allowedScopes":["user_default"],` +
			`"allowedGrantTypes":["client_credentials","urn:qlik:oauth:user-impersonation"],"allowedAuthMethods":["client_secret"]}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Cloud.URL+"/api/v1/oauth-clients", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+e.Cloud.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		var cl struct{ ClientID, ClientSecret string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&cl))
		require.NotEmpty(t, cl.ClientSecret)
		in := map[string]any{"host": e.Cloud.URL, "clientId": cl.ClientID, "clientSecret": cl.ClientSecret, "appId": e.AppID}

		// Client credentials: the client's own user.
		out, _ := runNode(t, dir, "cloud-oauth2.mjs", e.CAFile, in)
		assert.Equal(t, map[string]any{"client": map[string]any{"status": 200.0, "subject": "oauth-client/" + cl.ClientID, "name": "qsjwt-js-oauth2"}}, out)

		// Impersonation needs an existing user: @qlik/api says Qlik refused.
		in["subject"], in["name"], in["email"], in["skipCreate"] = "js-oauth-bea", "Bea", "bea@example.com", true
		out, code := runNode(t, dir, "cloud-oauth2.mjs", e.CAFile, in)
		assert.Equal(t, 1, code, "%v", out)
		assert.Contains(t, fmt.Sprint(out["error"]), "invalid_grant", "impersonating a missing user")

		// The client creates the user, then impersonates it by subject.
		delete(in, "skipCreate")
		out, _ = runNode(t, dir, "cloud-oauth2.mjs", e.CAFile, in)
		assert.Equal(t, map[string]any{
			"client":       map[string]any{"status": 200.0, "subject": "oauth-client/" + cl.ClientID, "name": "qsjwt-js-oauth2"},
			"created":      map[string]any{"status": 201.0, "subject": "js-oauth-bea"},
			"impersonated": map[string]any{"status": 200.0, "subject": "js-oauth-bea", "name": "Bea", "email": "bea@example.com"},
			"title":        qliktest.SampleAppTitle,
		}, out)

		// A wrong secret gets no token.
		in["clientSecret"] = "not-the-secret"
		out, code = runNode(t, dir, "cloud-oauth2.mjs", e.CAFile, in)
		assert.Equal(t, 1, code)
		assert.Contains(t, fmt.Sprint(out["error"]), "invalid_client", "a wrong client secret: %v", out)
		assert.NotContains(t, fmt.Sprint(out), cl.ClientSecret)
	})
}

// jsClients returns a directory with the scripts of testdata/js and their
// node_modules, installed with npm ci from the lock file. It skips the test,
// saying why, only where node or npm is missing or node is older than
// @qlik/api needs; with QSJWT_REQUIRE_NODE=1 (set by .ci/run) that is a
// failure instead.
func jsClients(t *testing.T) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("QSJWT_REQUIRE_NODE") == "1" {
		skip = t.Fatalf
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("the @qlik/api and enigma.js tests cannot run: %s is not on PATH; install Node.js 20 or later (with npm) to run them", tool)
		}
	}
	v, err := exec.Command("node", "--version").Output()
	require.NoError(t, err)
	major, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(strings.TrimSpace(string(v)), ".", 2)[0], "v"))
	if major < 20 {
		skip("the @qlik/api and enigma.js tests cannot run: node is %s and @qlik/api 2.19.0 needs Node.js 20 or later", strings.TrimSpace(string(v)))
	}
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/js")
	require.NoError(t, err)
	for _, f := range entries {
		if f.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join("testdata/js", f.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name()), data, 0o644))
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci in a copy of testdata/js:\n%s", out)
	t.Logf("npm ci: %v", time.Since(start).Round(time.Millisecond))
	return dir
}

// startQliktest runs the command until the test ends and returns what it
// printed, and a client trusting its caFile.
func startQliktest(t *testing.T) (Endpoints, *http.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--dir", t.TempDir()}, pw); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	line, err := bufio.NewReader(pr).ReadBytes('\n')
	require.NoError(t, err)
	var e Endpoints
	require.NoError(t, json.Unmarshal(line, &e))
	return e, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: rootsOf(t, e.CAFile)}}}
}

func rootsOf(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	ca, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	return pool
}

// runNode runs a script of dir with input in QSJWT_JS_INPUT and caFile as
// Node's extra CA certificates, and returns the JSON line it printed and its
// exit code.
func runNode(t *testing.T, dir, script, caFile string, input map[string]any) (map[string]any, int) {
	t.Helper()
	in, err := json.Marshal(input)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+caFile, "QSJWT_JS_INPUT="+string(in))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	t.Logf("node %s: %v", script, time.Since(start).Round(time.Millisecond))
	code := 0
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		require.True(t, ok, "node %s: %v\n%s", script, err, stderr.String())
		code = exit.ExitCode()
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "node %s printed no JSON line:\nstdout: %s\nstderr: %s", script, stdout.String(), stderr.String())
	if code == 0 {
		require.Nil(t, out["error"], "node %s", script)
	}
	return out, code
}

func errorMessage(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
