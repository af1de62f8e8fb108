package qliktest_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

const adminKey = "test-only-admin-api-key"

// adminCall sends a JSON body (a string is sent as is) with the API key.
func adminCall(t *testing.T, c *http.Client, method, url, key string, body any) (int, map[string]any) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// cloudToken signs a complete Qlik Cloud token with crypto/rsa.
func adminCloudToken(t *testing.T, key *rsa.PrivateKey, kid, iss string, now time.Time) string {
	t.Helper()
	enc := func(v any) string { js, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(js) }
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	in := enc(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + enc(map[string]any{
		"iss": iss, "aud": qliktest.CloudAudience, "sub": "anna", "subType": "user", "name": "Anna", "email": "anna@example.com",
		"email_verified": true, "groups": []string{"Sales"}, "jti": base64.RawURLEncoding.EncodeToString(jti),
		"iat": now.Unix(), "nbf": now.Unix() - 5, "exp": now.Unix() + 300})
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func adminLogin(t *testing.T, c *qliktest.Cloud, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/login/jwt-session", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct{ Errors []struct{ Code string } }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if len(body.Errors) > 0 {
		return resp.StatusCode, body.Errors[0].Code
	}
	return resp.StatusCode, ""
}

func idpBody(kid, pem string) map[string]any {
	return map[string]any{"provider": "external", "protocol": "jwtAuth", "interactive": false, "active": true,
		"description": "d", "clockToleranceSec": 5,
		"options": map[string]any{"issuer": "iss1", "jwtLoginEnabled": true, "staticKeys": []any{map[string]any{"kid": kid, "pem": pem}}}}
}

func TestCloudAdminNeedsTheAPIKey(t *testing.T) {
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: adminKey, Now: func() time.Time { return start }})
	defer c.Close()
	for _, key := range []string{"", "wrong"} {
		status, _ := adminCall(t, c.Client(), http.MethodGet, c.URL+"/api/v1/identity-providers", key, nil)
		assert.Equal(t, http.StatusUnauthorized, status)
	}
	status, body := adminCall(t, c.Client(), http.MethodGet, c.URL+"/api/v1/identity-providers", adminKey, nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, body["data"], "a tenant starts with no identity provider")
}

func TestCloudAdminRefusesMalformedIdentityProviders(t *testing.T) {
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: adminKey, Now: func() time.Time { return start }})
	defer c.Close()
	pem := string(c.CertificatePEM())
	with := func(change func(m map[string]any)) map[string]any { m := idpBody("k1", pem); change(m); return m }
	opts := func(m map[string]any) map[string]any { return m["options"].(map[string]any) }
	for name, body := range map[string]any{
		"not JSON":    "{",
		"OIDC":        with(func(m map[string]any) { m["protocol"] = "OIDC" }),
		"provider":    with(func(m map[string]any) { m["provider"] = "okta" }),
		"interactive": with(func(m map[string]any) { m["interactive"] = true }),
		"no issuer":   with(func(m map[string]any) { delete(opts(m), "issuer") }),
		"two keys": with(func(m map[string]any) {
			opts(m)["staticKeys"] = []any{map[string]any{"kid": "a", "pem": pem}, map[string]any{"kid": "b", "pem": pem}}
		}),
		"no key":              with(func(m map[string]any) { opts(m)["staticKeys"] = []any{} }),
		"empty kid":           idpBody("", pem),
		"literal backslash-n": idpBody("k1", strings.ReplaceAll(pem, "\n", `\n`)),
		"not PEM":             idpBody("k1", "MIIB"),
		"tolerance":           with(func(m map[string]any) { m["clockToleranceSec"] = 9000 }),
		"tolerance a string":  with(func(m map[string]any) { m["clockToleranceSec"] = "5" }),
	} {
		status, out := adminCall(t, c.Client(), http.MethodPost, c.URL+"/api/v1/identity-providers", adminKey, body)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.NotEmpty(t, out["errors"], name)
	}
	assert.Zero(t, c.AdminChanges())
}

func TestCloudLoginsUseTheCreatedIdentityProviders(t *testing.T) {
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: adminKey, Now: func() time.Time { return start }})
	defer c.Close()
	status, _ := adminLogin(t, c, adminCloudToken(t, c.Key, "k1", "iss1", start))
	assert.Equal(t, http.StatusUnauthorized, status, "no identity provider is set up")

	status, created := adminCall(t, c.Client(), http.MethodPost, c.URL+"/api/v1/identity-providers", adminKey, idpBody("k1", string(c.CertificatePEM())))
	require.Equal(t, http.StatusCreated, status)
	id := created["id"].(string)
	status, _ = adminCall(t, c.Client(), http.MethodPost, c.URL+"/api/v1/identity-providers", adminKey, idpBody("k1", string(c.CertificatePEM())))
	assert.Equal(t, http.StatusBadRequest, status, "the same issuer and kid twice")

	status, _ = adminLogin(t, c, adminCloudToken(t, c.Key, "k1", "iss1", start))
	assert.Equal(t, http.StatusOK, status)
	_, code := adminLogin(t, c, adminCloudToken(t, c.Key, "k1", "iss2", start))
	assert.Equal(t, "INTERNAL-TOKEN-4", code, "the identity provider's issuer")
	_, code = adminLogin(t, c, adminCloudToken(t, c.Key, "k2", "iss1", start))
	assert.Equal(t, "INTERNAL-TOKEN-2", code, "no identity provider has kid k2")

	status, _ = adminCall(t, c.Client(), http.MethodPatch, c.URL+"/api/v1/identity-providers/"+id, adminKey,
		[]any{map[string]any{"op": "replace", "path": "/options", "value": map[string]any{}}})
	assert.Equal(t, http.StatusBadRequest, status, "a JWT identity provider's key cannot be changed")
	status, _ = adminCall(t, c.Client(), http.MethodPatch, c.URL+"/api/v1/identity-providers/"+id, adminKey,
		[]any{map[string]any{"op": "replace", "path": "/description", "value": "new"}})
	assert.Equal(t, http.StatusNoContent, status)

	status, _ = adminCall(t, c.Client(), http.MethodDelete, c.URL+"/api/v1/identity-providers/"+id, adminKey, nil)
	assert.Equal(t, http.StatusNoContent, status)
	status, _ = adminLogin(t, c, adminCloudToken(t, c.Key, "k1", "iss1", start))
	assert.Equal(t, http.StatusUnauthorized, status, "a deleted identity provider logs no one in")
}

func TestCloudGroupsAppearOnlyWithGroupCreation(t *testing.T) {
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: adminKey, Now: func() time.Time { return start }})
	defer c.Close()
	status, _ := adminCall(t, c.Client(), http.MethodPost, c.URL+"/api/v1/identity-providers", adminKey, idpBody("k1", string(c.CertificatePEM())))
	require.Equal(t, http.StatusCreated, status)
	groups := func() any {
		req, _ := http.NewRequest(http.MethodPost, c.URL+"/login/jwt-session", nil)
		req.Header.Set("Authorization", "Bearer "+adminCloudToken(t, c.Key, "k1", "iss1", start))
		resp, err := c.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		me, _ := http.NewRequest(http.MethodGet, c.URL+"/api/v1/users/me", nil)
		for _, ck := range resp.Cookies() {
			me.AddCookie(ck)
		}
		resp, err = c.Client().Do(me)
		require.NoError(t, err)
		defer resp.Body.Close()
		var u map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&u))
		return u["groups"]
	}
	assert.Nil(t, groups(), "group creation is off")
	for _, bad := range []any{"[", []any{map[string]any{"op": "add", "path": "/autoCreateGroups", "value": true}},
		[]any{map[string]any{"op": "replace", "path": "/autoCreateGroups", "value": "true"}}} {
		status, _ := adminCall(t, c.Client(), http.MethodPatch, c.URL+"/api/v1/groups/settings", adminKey, bad)
		assert.Equal(t, http.StatusBadRequest, status)
	}
	status, _ = adminCall(t, c.Client(), http.MethodPatch, c.URL+"/api/v1/groups/settings", adminKey,
		[]any{map[string]any{"op": "replace", "path": "/autoCreateGroups", "value": true}})
	require.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, []any{"Sales"}, groups())
}

func TestCloudWebIntegrationsTakeExactOrigins(t *testing.T) {
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: adminKey})
	defer c.Close()
	for _, o := range []string{"https://*.example.com", "example.com", "https://example.com/path"} {
		status, _ := adminCall(t, c.Client(), http.MethodPost, c.URL+"/api/v1/web-integrations", adminKey,
			map[string]any{"name": "w", "validOrigins": []string{o}})
		assert.Equal(t, http.StatusBadRequest, status, o)
	}
	status, w := adminCall(t, c.Client(), http.MethodPost, c.URL+"/api/v1/web-integrations", adminKey,
		map[string]any{"name": "w", "validOrigins": []string{"https://mashup.example.com"}})
	require.Equal(t, http.StatusCreated, status)
	assert.NotEmpty(t, w["id"])
	status, list := adminCall(t, c.Client(), http.MethodGet, c.URL+"/api/v1/web-integrations", adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, list["data"], 1, "what was created is kept")
}
