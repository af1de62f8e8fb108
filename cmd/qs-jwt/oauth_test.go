package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
)

const (
	testClientID = "0123456789abcdef0123456789abcdef"
	testTenant   = "https://tenant.eu.qlikcloud.com"
)

var ecKeyPath = fixture("test-only-ec-p384-pkcs8.pem")

func TestCreateAssertion(t *testing.T) {
	for _, tc := range []struct {
		name, key, alg string
		args           []string
	}{
		{"RSA", keyPath, "RS256", nil},
		{"RSA RS512", keyPath, "RS512", []string{"--alg", "RS512"}},
		{"P-384", ecKeyPath, "ES384", []string{"--expires", "5m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := append([]string{"--tenant", testTenant + "/", "--client-id", testClientID, "--keyid", "k1", "--cert-privatekey-file", tc.key}, tc.args...)
			jwk := qsArgs(t, append([]string{"create-assertion", "--print-jwk"}, base...)...)
			require.Equal(t, 0, jwk.code, jwk.stderr)
			var m map[string]string
			require.NoError(t, json.Unmarshal([]byte(jwk.stdout), &m))
			assert.Equal(t, tc.alg, m["alg"])
			assert.Equal(t, "k1", m["kid"])
			assert.Empty(t, m["d"])

			r := qsArgs(t, append([]string{"create-assertion"}, base...)...)
			require.Equal(t, 0, r.code, r.stderr)
			raw := strings.TrimSuffix(r.stdout, "\n")
			require.NotContains(t, raw, "\n", "the assertion alone on stdout")
			tok, err := qsjwt.VerifyClientAssertion(raw, []byte(jwk.stdout), testClientID, testTenant, qsjwt.WithClock(clock))
			require.NoError(t, err)
			assert.Equal(t, fixedNow, tok.IssuedAt)
			if tc.alg == "RS256" {
				d := verifyStdlib(t, raw, certKey(t, certPath)) // crypto/rsa over the exact bytes
				assert.Equal(t, `"`+testTenant+`/oauth/token"`, d.claim("aud"))
				assert.Equal(t, int64(60), d.num(t, "exp")-d.num(t, "iat"))
			}
			assert.Contains(t, r.stderr, "send it once")
		})
	}
}

func TestCreateAssertionRefuses(t *testing.T) {
	base := []string{"create-assertion", "--client-id", testClientID, "--keyid", "k1", "--cert-privatekey-file", keyPath}
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"http tenant", []string{"--tenant", "http://tenant.eu.qlikcloud.com"}, "--tenant"},
		{"tenant with a path", []string{"--tenant", testTenant + "/oauth/token"}, "--tenant"},
		{"six minutes", []string{"--tenant", testTenant, "--expires", "6m"}, "--expires"},
		{"RS384", []string{"--tenant", testTenant, "--alg", "RS384"}, "--alg"},
		{"ES384 with an RSA key", []string{"--tenant", testTenant, "--alg", "ES384"}, "--alg"},
		{"no tenant", nil, "--tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, append(append([]string{}, base...), tc.args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")")
		})
	}
	r := qsArgs(t, "create-assertion", "--tenant", testTenant, "--client-id", testClientID, "--cert-privatekey-file", keyPath)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "(--keyid)")
	r = qsArgs(t, "create-assertion", "--tenant", testTenant, "--client-id", testClientID, "--keyid", "k", "--cert-create", "--cert-file-prefix", t.TempDir()+"/")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "(--cert-create)")
	r = qsArgs(t, "create-assertion", "--tenant", testTenant, "--client-id", testClientID, "--keyid", "k", "--cert-privatekey-file", fixture("test-only-ec-p256-pkcs8.pem"))
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "ECDSA P-256")
}

// oauthTenant makes an OAuth client on an emulated tenant and returns its
// ID and secret.
func oauthTenant(t *testing.T) (tn *tenant, clientID, secret string) {
	t.Helper()
	tn = newTenant(t, fixedNow)
	jwk := qsArgs(t, "create-assertion", "--print-jwk", "--tenant", tn.URL, "--client-id", "x", "--keyid", "k1", "--cert-privatekey-file", ecKeyPath)
	require.Equal(t, 0, jwk.code, jwk.stderr)
	body, _ := json.Marshal(map[string]any{"clientName": "cli", "appType": "web",
		"allowedGrantTypes": []string{"client_credentials", "urn:qlik:oauth:user-impersonation"}, "allowedScopes": []string{"user_default"},
		"allowedAuthMethods": []string{"client_secret", "private_key_jwt"}, "publicKeys": []json.RawMessage{json.RawMessage(jwk.stdout)}})
	req, _ := http.NewRequest(http.MethodPost, tn.URL+"/api/v1/oauth-clients", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := tn.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var out struct{ ClientID, ClientSecret string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	addSecret(out.ClientSecret)
	return tn, out.ClientID, out.ClientSecret
}

func TestOAuthTokenAgainstTheEmulator(t *testing.T) {
	tn, clientID, secret := oauthTenant(t)
	env := map[string]string{"QS_CLIENT_SECRET": secret}
	base := []string{"oauth-token", "--tenant", tn.URL, "--ca-file", tn.ca, "--client-id", clientID}
	me := func(access string) string {
		req, _ := http.NewRequest(http.MethodGet, tn.URL+"/api/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := tn.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var u struct{ Subject string }
		_ = json.NewDecoder(resp.Body).Decode(&u)
		return u.Subject
	}

	r := qs(t, runOpts{env: env}, append(base, "--client-secret-env", "QS_CLIENT_SECRET")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "oauth-client/"+clientID, me(strings.TrimSpace(r.stdout)))

	r = qsArgs(t, append(base, "--cert-privatekey-file", ecKeyPath, "--keyid", "k1")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "oauth-client/"+clientID, me(strings.TrimSpace(r.stdout)), "by Private Key JWT (ES384)")

	// Impersonation: the user must exist.
	r = qs(t, runOpts{env: env}, append(base, "--client-secret-env", "QS_CLIENT_SECRET", "--impersonate-subject", "anna", "--scope", "user_default")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "invalid_grant")
	body, _ := json.Marshal(map[string]string{"subject": "anna", "name": "Anna"})
	req, _ := http.NewRequest(http.MethodPost, tn.URL+"/api/v1/users", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := tn.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	r = qsArgs(t, append(base, "--cert-privatekey-file", ecKeyPath, "--keyid", "k1", "--impersonate-subject", "anna", "--scope", "user_default")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "anna", me(strings.TrimSpace(r.stdout)))

	// Refusals name the flag and never print the secret.
	r = qs(t, runOpts{env: map[string]string{"QS_CLIENT_SECRET": "test-only-wrong-client-secret"}}, append(base, "--client-secret-env", "QS_CLIENT_SECRET")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "invalid_client")
	assert.Contains(t, r.stderr, "(--client-secret-env)")
	assert.NotContains(t, r.stderr, "test-only-wrong-client-secret")
	r = qsArgs(t, append(base, "--cert-privatekey-file", ecKeyPath, "--keyid", "k2")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(--keyid)")
	r = qs(t, runOpts{env: env}, append(base, "--client-secret-env", secret)...)
	assert.Equal(t, exitUsage, r.code, "the secret itself given where its variable's name belongs")
	r = qsArgs(t, append(base, "--impersonate-subject", "anna", "--cert-privatekey-file", ecKeyPath, "--keyid", "k1")...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "(--scope)")
	r = qs(t, runOpts{env: env}, append(base, "--client-secret-env", "QS_CLIENT_SECRET", "--cert-privatekey-file", ecKeyPath)...)
	assert.Equal(t, exitUsage, r.code)
	r = qsArgs(t, base...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "(--client-secret-env)")
}

func TestDecodeVariantOAuth(t *testing.T) {
	args := []string{"--tenant", testTenant, "--client-id", testClientID, "--keyid", "k1", "--cert-privatekey-file", ecKeyPath}
	jwk := qsArgs(t, append([]string{"create-assertion", "--print-jwk"}, args...)...)
	require.Equal(t, 0, jwk.code, jwk.stderr)
	jwkFile := writeFile(t, "jwk.json", []byte(jwk.stdout))
	asn := qsArgs(t, append([]string{"create-assertion"}, args...)...)
	require.Equal(t, 0, asn.code, asn.stderr)
	raw := strings.TrimSpace(asn.stdout)

	r := qsArgs(t, "decode", "--jwt", raw, "--variant", "oauth", "--cert-publickey-file", jwkFile, "--expected-issuer", testClientID)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Qlik Cloud OAuth would accept this token")

	other := qsArgs(t, "create-assertion", "--print-jwk", "--tenant", testTenant, "--client-id", testClientID, "--keyid", "k2", "--cert-privatekey-file", ecKeyPath)
	r = qsAny(t, nil, "decode", "--jwt", raw, "--variant", "oauth", "--cert-publickey-file", writeFile(t, "k2.json", []byte(other.stdout)))
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, `header "kid": is "k1"; the key registered with the OAuth client has kid "k2"`)

	r = qsArgs(t, "decode", "--jwt", raw, "--variant", "oauth", "--cert-publickey-file", certPath)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "JWK")
}
