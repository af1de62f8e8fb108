package online

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
