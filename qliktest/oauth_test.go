package qliktest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// oauthTenant is an emulated tenant with one OAuth client that may use
// both grants and both ways of authenticating, with an RSA and a P-384 key.
type oauthTenant struct {
	*qliktest.Cloud
	clock          *qliktest.Clock
	clientID       string
	secret         string
	rsaKey         *rsa.PrivateKey
	ecKey          *ecdsa.PrivateKey
	rsaAsn, ecAsn  *qsjwt.ClientAssertion
	rsaJWK, ecJWK  []byte
	client         *http.Client
	grants, scopes []string
}

func newOAuthTenant(t *testing.T, grants ...string) *oauthTenant {
	t.Helper()
	clock := qliktest.NewClock(start)
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: adminKey, Now: clock.Now})
	t.Cleanup(c.Close)
	o := &oauthTenant{Cloud: c, clock: clock, client: c.Client(), rsaKey: readKey(t, "test-only-rsa2048-pkcs8.pem"), ecKey: readECKey(t)}
	if grants == nil {
		grants = []string{qliktest.GrantClientCredentials, qliktest.GrantImpersonation}
	}
	rsaSigner, err := qsjwt.SignerFromCrypto(o.rsaKey)
	require.NoError(t, err)
	ecSigner, err := qsjwt.SignerFromCrypto(o.ecKey)
	require.NoError(t, err)
	// The client ID is known only once the client exists: a builder made
	// with a placeholder writes the JWKs.
	for _, k := range []struct {
		s   qsjwt.Signer
		kid string
		jwk *[]byte
	}{{rsaSigner, "rsa-1", &o.rsaJWK}, {ecSigner, "ec-1", &o.ecJWK}} {
		a, err := qsjwt.NewClientAssertion(k.s, "placeholder", c.URL, k.kid)
		require.NoError(t, err)
		*k.jwk, err = a.PublicJWK()
		require.NoError(t, err)
	}
	status, out := adminCall(t, o.client, http.MethodPost, c.URL+"/api/v1/oauth-clients", adminKey, map[string]any{
		"clientName": "portal", "appType": "web", "allowedGrantTypes": grants, "allowedScopes": []string{"user_default", "admin_classic"},
		"allowedAuthMethods": []string{"client_secret", "private_key_jwt"},
		"publicKeys":         []json.RawMessage{o.rsaJWK, o.ecJWK},
	})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	o.clientID, o.secret = out["clientId"].(string), out["clientSecret"].(string)
	o.rsaAsn, err = qsjwt.NewClientAssertion(rsaSigner, o.clientID, c.URL, "rsa-1", qsjwt.WithClock(clock.Now))
	require.NoError(t, err)
	o.ecAsn, err = qsjwt.NewClientAssertion(ecSigner, o.clientID, c.URL, "ec-1", qsjwt.WithClock(clock.Now))
	require.NoError(t, err)
	return o
}

func readECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../testdata/test-only-ec-p384-pkcs8.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return k.(*ecdsa.PrivateKey)
}

// tokenCall posts body as JSON to /oauth/token.
func (o *oauthTenant) tokenCall(t testing.TB, body map[string]any) (int, map[string]any, http.Header) {
	t.Helper()
	js, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := o.client.Post(o.URL+"/oauth/token", "application/json", bytes.NewReader(js))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out, resp.Header
}

func (o *oauthTenant) assertion(t testing.TB, a *qsjwt.ClientAssertion) string {
	t.Helper()
	tok, err := a.Sign(context.Background())
	require.NoError(t, err)
	return tok.Raw
}

func (o *oauthTenant) withAssertion(raw string, extra map[string]any) map[string]any {
	body := map[string]any{"client_id": o.clientID, "client_assertion": raw, "client_assertion_type": qliktest.AssertionType,
		"grant_type": qliktest.GrantClientCredentials}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// me calls GET /api/v1/users/me with the access token.
func (o *oauthTenant) me(t testing.TB, access string) (int, map[string]any) {
	t.Helper()
	resp, body, _ := do(t, o.client, http.MethodGet, o.URL+"/api/v1/users/me", map[string]string{"Authorization": "Bearer " + access})
	var u map[string]any
	_ = json.Unmarshal(body, &u)
	return resp.StatusCode, u
}

func TestOAuthClientCredentialsWithAssertions(t *testing.T) {
	o := newOAuthTenant(t)
	for _, a := range []*qsjwt.ClientAssertion{o.rsaAsn, o.ecAsn} {
		t.Run(string(a.Algorithm()), func(t *testing.T) {
			raw := o.assertion(t, a)
			status, out, hdr := o.tokenCall(t, o.withAssertion(raw, nil))
			require.Equal(t, http.StatusOK, status, "%v", out)
			assert.Equal(t, "no-store", hdr.Get("Cache-Control"))
			assert.Equal(t, "Bearer", out["token_type"])
			assert.Equal(t, float64(6*3600), out["expires_in"])
			assert.Equal(t, "user_default admin_classic", out["scope"])
			access := out["access_token"].(string)

			status, u := o.me(t, access)
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, "oauth-client/"+o.clientID, u["subject"])

			// A Bearer call that is not GET needs no CSRF token; the engine
			// WebSocket takes the Bearer header (as @qlik/api in Node sends it).
			resp, _, q := do(t, o.client, http.MethodPost, o.URL+"/api/v1/spaces", map[string]string{"Authorization": "Bearer " + access})
			assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "%v", q)
			code, _ := wsUpgrade(t, o.client, "wss"+strings.TrimPrefix(o.URL, "https")+"/app/app-1", http.Header{"Authorization": {"Bearer " + access}})
			assert.Equal(t, http.StatusSwitchingProtocols, code)

			// O-JTI-2: the same assertion again is refused.
			status, out, _ = o.tokenCall(t, o.withAssertion(raw, nil))
			assert.Equal(t, http.StatusUnauthorized, status)
			assert.Equal(t, "invalid_client", out["error"])
			assert.Contains(t, out["error_description"], "jti")
			assert.Equal(t, "invalid_client", out["errors"].([]any)[0].(map[string]any)["code"])

			// The access token ends after expires_in.
			o.clock.Advance(6 * time.Hour)
			status, _ = o.me(t, access)
			assert.Equal(t, http.StatusUnauthorized, status)
		})
	}
}

func TestOAuthSecretImpersonationAndUsers(t *testing.T) {
	o := newOAuthTenant(t)
	secretBody := func(extra map[string]any) map[string]any {
		b := map[string]any{"client_id": o.clientID, "client_secret": o.secret, "grant_type": qliktest.GrantClientCredentials}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	status, out, _ := o.tokenCall(t, secretBody(map[string]any{"client_secret": "wrong"}))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_client", out["error"])

	status, out, _ = o.tokenCall(t, secretBody(nil))
	require.Equal(t, http.StatusOK, status, "%v", out)
	bot := out["access_token"].(string)

	imp := map[string]any{"grant_type": qliktest.GrantImpersonation, "scope": "user_default",
		"user_lookup": map[string]string{"field": "subject", "value": "anna"}}
	status, out, _ = o.tokenCall(t, secretBody(imp))
	assert.Equal(t, http.StatusBadRequest, status, "no user anna yet")
	assert.Equal(t, "invalid_grant", out["error"])

	// The user is created with the client credentials token.
	resp, body, _ := do(t, o.client, http.MethodGet, o.URL+`/api/v1/users?filter=`+urlQuery(`subject eq "anna"`), map[string]string{"Authorization": "Bearer " + bot})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"data":[],"links":{}}`, string(body))
	st, u := adminCall(t, o.client, http.MethodPost, o.URL+"/api/v1/users", bot, map[string]string{"subject": "anna", "name": "Anna", "email": "anna@example.com"})
	require.Equal(t, http.StatusCreated, st, "%v", u)

	status, out, _ = o.tokenCall(t, secretBody(imp))
	require.Equal(t, http.StatusOK, status, "%v", out)
	st, me := o.me(t, out["access_token"].(string))
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, "anna", me["subject"])

	status, out, _ = o.tokenCall(t, secretBody(map[string]any{"grant_type": qliktest.GrantImpersonation, "scope": "user_default",
		"user_lookup": map[string]string{"field": "userId", "value": u["id"].(string)}}))
	require.Equal(t, http.StatusOK, status, "%v", out)

	for name, tc := range map[string]struct {
		extra map[string]any
		code  string
	}{
		"impersonation without scope": {map[string]any{"grant_type": qliktest.GrantImpersonation, "user_lookup": map[string]string{"field": "subject", "value": "anna"}}, "invalid_scope"},
		"scope not allowed":           {map[string]any{"scope": "apps:write"}, "invalid_scope"},
		"unknown grant":               {map[string]any{"grant_type": "password"}, "unsupported_grant_type"},
		"lookup by e-mail":            {map[string]any{"grant_type": qliktest.GrantImpersonation, "scope": "user_default", "user_lookup": map[string]string{"field": "email", "value": "anna@example.com"}}, "invalid_grant"},
	} {
		status, out, _ := o.tokenCall(t, secretBody(tc.extra))
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, tc.code, out["error"], name)
		assert.NotContains(t, out["error_description"], o.secret)
	}
	// An impersonation token cannot manage users.
	st, _ = adminCall(t, o.client, http.MethodPost, o.URL+"/api/v1/users", out["access_token"].(string), map[string]string{"subject": "x"})
	assert.Equal(t, http.StatusUnauthorized, st)
}

func urlQuery(s string) string { return strings.NewReplacer(" ", "%20", `"`, "%22").Replace(s) }

func TestOAuthGrantsPerClientAndRateLimit(t *testing.T) {
	o := newOAuthTenant(t, qliktest.GrantImpersonation)
	status, out, _ := o.tokenCall(t, o.withAssertion(o.assertion(t, o.rsaAsn), nil))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "unauthorized_client", out["error"], "client_credentials is not among the client's grants")

	o.LimitOAuthTokens(1)
	o.tokenCall(t, o.withAssertion(o.assertion(t, o.rsaAsn), nil))
	status, out, hdr := o.tokenCall(t, o.withAssertion(o.assertion(t, o.rsaAsn), nil))
	assert.Equal(t, http.StatusTooManyRequests, status, "%v", out)
	assert.Equal(t, "30", hdr.Get("Retry-After"))
}

func TestOAuthClientsAdminAPI(t *testing.T) {
	o := newOAuthTenant(t)
	st, _ := adminCall(t, o.client, http.MethodGet, o.URL+"/api/v1/oauth-clients", "", nil)
	assert.Equal(t, http.StatusUnauthorized, st, "the API key is required")
	st, got := adminCall(t, o.client, http.MethodGet, o.URL+"/api/v1/oauth-clients/"+o.clientID, adminKey, nil)
	require.Equal(t, http.StatusOK, st)
	assert.NotContains(t, mustMarshal(t, got), o.secret, "the secret is shown once, at creation")
	assert.Len(t, got["publicKeys"], 2)

	for name, body := range map[string]map[string]any{
		"private key in the JWK": {"clientName": "x", "appType": "web", "allowedAuthMethods": []string{"private_key_jwt"},
			"publicKeys": []map[string]string{{"kty": "EC", "crv": "P-384", "kid": "k", "alg": "ES384", "use": "sig", "d": "AAAA"}}},
		"RS384":          {"clientName": "x", "appType": "web", "allowedAuthMethods": []string{"private_key_jwt"}, "publicKeys": []map[string]string{{"kty": "RSA", "kid": "k", "alg": "RS384", "use": "sig", "n": "AQAB", "e": "AQAB"}}},
		"no keys":        {"clientName": "x", "appType": "web", "allowedAuthMethods": []string{"private_key_jwt"}},
		"grants for spa": {"clientName": "x", "appType": "spa", "allowedGrantTypes": []string{qliktest.GrantClientCredentials}},
	} {
		st, _ := adminCall(t, o.client, http.MethodPost, o.URL+"/api/v1/oauth-clients", adminKey, body)
		assert.Equal(t, http.StatusBadRequest, st, name)
	}
	st, _ = adminCall(t, o.client, http.MethodDelete, o.URL+"/api/v1/oauth-clients/"+o.clientID, adminKey, nil)
	assert.Equal(t, http.StatusNoContent, st)
	status, out, _ := o.tokenCall(t, o.withAssertion(o.assertion(t, o.rsaAsn), nil))
	assert.Equal(t, http.StatusUnauthorized, status, "%v", out)
}

func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestOAuthRulesVerifierAndEmulatorAgree holds qsjwt's assertion verifier
// and the emulator's token endpoint to the same O-* rows: each hand-made
// assertion is accepted by both or refused by both.
func TestOAuthRulesVerifierAndEmulatorAgree(t *testing.T) {
	o := newOAuthTenant(t)
	now := start.Unix()
	aud := o.URL + "/oauth/token"
	n := 0
	claims := func(edit func(map[string]any)) map[string]any {
		n++
		c := map[string]any{"iss": o.clientID, "sub": o.clientID, "aud": aud, "jti": "00000000-0000-4000-8000-" + strconv.FormatInt(int64(100000000000+n), 10),
			"iat": now, "exp": now + 60}
		if edit != nil {
			edit(c)
		}
		return c
	}
	hdr := map[string]any{"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}
	rows := []struct {
		rule   string
		header map[string]any
		claims map[string]any
		accept bool
	}{
		{"good", hdr, claims(nil), true},
		{"O-TIME-2 exp - iat = 300 s", hdr, claims(func(c map[string]any) { c["exp"] = now + 300 }), true},
		{"O-TIME-2 exp - iat = 301 s", hdr, claims(func(c map[string]any) { c["exp"] = now + 301 }), false},
		{"O-TIME-2 exp = iat", hdr, claims(func(c map[string]any) { c["exp"] = now }), false},
		{"O-TIME-3 expired", hdr, claims(func(c map[string]any) { c["iat"], c["exp"] = now-120, now-60 }), false},
		{"O-TIME-3 expired within the tolerance", hdr, claims(func(c map[string]any) { c["iat"], c["exp"] = now-60, now-3 }), true},
		{"O-TIME-1 no iat", hdr, claims(func(c map[string]any) { delete(c, "iat") }), false},
		{"O-TIME-1 exp a string", hdr, claims(func(c map[string]any) { c["exp"] = strconv.FormatInt(now+60, 10) }), false},
		{"O-AUD-1 trailing slash", hdr, claims(func(c map[string]any) { c["aud"] = aud + "/" }), false},
		{"O-AUD-1 array", hdr, claims(func(c map[string]any) { c["aud"] = []string{aud} }), false},
		{"O-AUD-1 tenant URL only", hdr, claims(func(c map[string]any) { c["aud"] = o.URL }), false},
		{"O-ISS-1 iss another client", hdr, claims(func(c map[string]any) { c["iss"] = "other" }), false},
		{"O-ISS-1 sub another client", hdr, claims(func(c map[string]any) { c["sub"] = "other" }), false},
		{"O-JTI-1 no jti", hdr, claims(func(c map[string]any) { delete(c, "jti") }), false},
		{"O-JTI-1 jti not a UUID (accepted)", hdr, claims(func(c map[string]any) { c["jti"] = "abc" }), true},
		{"O-TIME-1 nbf in the future", hdr, claims(func(c map[string]any) { c["nbf"] = now + 30 }), false},
		{"O-KID-1 no kid", map[string]any{"alg": "RS256"}, claims(nil), false},
		{"O-KID-1 unregistered kid", map[string]any{"alg": "RS256", "kid": "rsa-2"}, claims(nil), false},
		{"O-ALG-1 RS512 with an RS256 key", map[string]any{"alg": "RS512", "kid": "rsa-1"}, claims(nil), false},
		{"O-ALG-1 none", map[string]any{"alg": "none", "kid": "rsa-1"}, claims(nil), false},
		{"O-FORM-1 crit", map[string]any{"alg": "RS256", "kid": "rsa-1", "crit": []string{"exp"}}, claims(nil), false},
	}
	doc := docRows(t)
	for _, row := range rows {
		if id := strings.Fields(row.rule)[0]; rowID.MatchString(id) {
			require.Contains(t, doc, id, "docs/qlik-rules.md has the row this test cites")
		}
		t.Run(row.rule, func(t *testing.T) {
			raw := signJWT(t, o.rsaKey, row.header, row.claims)
			_, verr := qsjwt.VerifyClientAssertion(raw, o.rsaJWK, o.clientID, o.URL, qsjwt.WithClock(o.clock.Now))
			status, out, _ := o.tokenCall(t, o.withAssertion(raw, nil))
			assert.Equal(t, row.accept, verr == nil, "verifier: %v", verr)
			assert.Equal(t, row.accept, status == http.StatusOK, "emulator: %d %v", status, out)
		})
	}
	t.Run("O-SIG-1 signed by another key", func(t *testing.T) {
		raw := signJWT(t, otherKey(t), hdr, claims(nil))
		_, verr := qsjwt.VerifyClientAssertion(raw, o.rsaJWK, o.clientID, o.URL, qsjwt.WithClock(o.clock.Now))
		status, _, _ := o.tokenCall(t, o.withAssertion(raw, nil))
		assert.Error(t, verr)
		assert.Equal(t, http.StatusUnauthorized, status)
	})
	t.Run("O-SIG-1 ES384 in ASN.1 instead of r||s", func(t *testing.T) {
		enc := func(v any) string { js, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(js) }
		input := enc(map[string]any{"alg": "ES384", "kid": "ec-1"}) + "." + enc(claims(nil))
		d := crypto.SHA384.New()
		d.Write([]byte(input))
		der, err := ecdsa.SignASN1(rand.Reader, o.ecKey, d.Sum(nil))
		require.NoError(t, err)
		raw := input + "." + base64.RawURLEncoding.EncodeToString(der)
		_, verr := qsjwt.VerifyClientAssertion(raw, o.ecJWK, o.clientID, o.URL, qsjwt.WithClock(o.clock.Now))
		status, _, _ := o.tokenCall(t, o.withAssertion(raw, nil))
		assert.Error(t, verr)
		assert.Equal(t, http.StatusUnauthorized, status)
	})
}
