package qliktest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// cloudClaims are claims the emulated tenant accepts at clock time now.
func cloudClaims(tenant *qliktest.Cloud, now time.Time, jti string) map[string]any {
	return map[string]any{
		"iss": tenant.Issuer, "aud": qliktest.CloudAudience, "sub": "anna-42", "subType": "user",
		"name": "Anna Andersson", "email": "anna@example.com", "email_verified": true, "groups": []string{"Sales"},
		"jti": jti, "iat": now.Unix(), "nbf": now.Unix() - 5, "exp": now.Add(5 * time.Minute).Unix(),
	}
}

func cloudHeader(tenant *qliktest.Cloud) map[string]any {
	return map[string]any{"alg": "RS256", "typ": "JWT", "kid": tenant.KeyID}
}

// login posts a token and returns the response, its Qlik error and cookies.
func login(t *testing.T, tenant *qliktest.Cloud, raw string, hdr ...string) (qlikErr, []*http.Cookie) {
	t.Helper()
	h := map[string]string{}
	if raw != "" {
		h["Authorization"] = "Bearer " + raw
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	resp, body, e := do(t, tenant.Client(), http.MethodPost, tenant.URL+"/login/jwt-session", h)
	if resp.StatusCode == http.StatusOK {
		assert.JSONEq(t, `{}`, string(body), "success is 200 with {}")
	}
	return e, resp.Cookies()
}

func TestCloudLoginAndSession(t *testing.T) {
	clock := qliktest.NewClock(start)
	tenant := qliktest.NewCloud(qliktest.CloudConfig{Now: clock.Now})
	defer tenant.Close()
	require.NotNil(t, tenant.Key)
	assert.Contains(t, string(tenant.CertificatePEM()), "BEGIN CERTIFICATE")
	assert.Contains(t, string(tenant.KeyPEM()), "BEGIN PRIVATE KEY")

	e, cookies := login(t, tenant, signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, start, "j1")))
	require.Equal(t, http.StatusOK, e.Status, e.Detail)
	names := []string{}
	for _, c := range cookies {
		names = append(names, c.Name)
		assert.True(t, c.Secure && c.HttpOnly, "cookie %s is Secure and HttpOnly over TLS", c.Name)
	}
	assert.ElementsMatch(t, []string{qliktest.CloudSessionCookie, qliktest.CloudSessionSigCookie, "_csrfToken"}, names)
	assert.Equal(t, 1, tenant.Logins())
	assert.Equal(t, 1, tenant.Logins("anna-42"))
	assert.Equal(t, 0, tenant.Logins("someone-else"))
	assert.Equal(t, 1, tenant.ActiveSessions())

	c := tenant.Client()
	resp, body, e := do(t, c, http.MethodGet, tenant.URL+"/api/v1/users/me", nil, cookies...)
	require.Equal(t, http.StatusOK, resp.StatusCode, e.Detail)
	assert.Contains(t, string(body), `"subject":"anna-42"`)
	assert.Contains(t, string(body), `"email":"anna@example.com"`)

	resp, _, _ = do(t, c, http.MethodGet, tenant.URL+"/api/v1/csrf-token", nil, cookies...)
	csrf := resp.Header.Get("qlik-csrf-token")
	require.NotEmpty(t, csrf)
	assert.Equal(t, 1, tenant.CSRFTokenFetches())

	// Non-GET calls need the CSRF token.
	_, _, e = do(t, c, http.MethodPost, tenant.URL+"/api/v1/spaces", nil, cookies...)
	assert.Equal(t, qlikErr{Status: 403, Code: "CSRF-TOKEN-1"}, qlikErr{e.Status, e.Code, ""})
	_, _, e = do(t, c, http.MethodPost, tenant.URL+"/api/v1/spaces", map[string]string{"qlik-csrf-token": "old"}, cookies...)
	assert.Equal(t, "CSRF-TOKEN-2", e.Code)
	req, _ := http.NewRequest(http.MethodPost, tenant.URL+"/api/v1/spaces", strings.NewReader(`{"name":"s1"}`))
	req.Header.Set("qlik-csrf-token", csrf)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	r, err := c.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusCreated, r.StatusCode)

	tenant.RotateCSRFTokens()
	_, _, e = do(t, c, http.MethodPost, tenant.URL+"/api/v1/spaces", map[string]string{"qlik-csrf-token": csrf}, cookies...)
	assert.Equal(t, "CSRF-TOKEN-2", e.Code, "a rotated CSRF token is stale")

	// Engine WebSocket: session cookies and the current CSRF token.
	resp, _, _ = do(t, c, http.MethodGet, tenant.URL+"/api/v1/csrf-token", nil, cookies...)
	csrf = resp.Header.Get("qlik-csrf-token")
	hdr := http.Header{}
	for _, ck := range cookies {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	status, _ := wsUpgrade(t, c, strings.Replace(tenant.URL, "https", "wss", 1)+"/app/app-1?qlik-csrf-token="+csrf, hdr)
	assert.Equal(t, http.StatusSwitchingProtocols, status)
	status, we := wsUpgrade(t, c, strings.Replace(tenant.URL, "https", "wss", 1)+"/app/app-1?qlik-csrf-token=wrong", hdr)
	assert.Equal(t, qlikErr{Status: 403, Code: "CSRF-TOKEN-2"}, qlikErr{status, we.Code, ""})
	withHeader := hdr.Clone()
	withHeader.Set("qlik-csrf-token", csrf)
	status, _ = wsUpgrade(t, c, strings.Replace(tenant.URL, "https", "wss", 1)+"/app/app-1", withHeader)
	assert.Equal(t, http.StatusSwitchingProtocols, status, "the CSRF token as a header, as @qlik/api sends it from Node")
	status, we = wsUpgrade(t, c, strings.Replace(tenant.URL, "https", "wss", 1)+"/app/app-1", hdr)
	assert.Equal(t, qlikErr{Status: 403, Code: "CSRF-TOKEN-2"}, qlikErr{status, we.Code, ""}, "no CSRF token")

	// Every cookie is needed, and sessions time out.
	_, _, e = do(t, c, http.MethodGet, tenant.URL+"/api/v1/users/me", nil, cookies[0])
	assert.Equal(t, qlikErr{Status: 401, Code: "AUTH-1"}, qlikErr{e.Status, e.Code, ""}, "the signature cookie is needed too")
	clock.Advance(qliktest.DefaultSessionTimeout)
	_, _, e = do(t, c, http.MethodGet, tenant.URL+"/api/v1/users/me", nil, cookies...)
	assert.Equal(t, "AUTH-1", e.Code, "an idle session times out")
	assert.Equal(t, 0, tenant.ActiveSessions())
}

// TestCloudRefusals covers each rule of the identity provider.
func TestCloudRefusals(t *testing.T) {
	clock := qliktest.NewClock(start)
	tenant := qliktest.NewCloud(qliktest.CloudConfig{Now: clock.Now})
	defer tenant.Close()
	other := otherKey(t)
	now := start

	type change func(h, c map[string]any)
	del := func(name string) change { return func(_, c map[string]any) { delete(c, name) } }
	set := func(name string, v any) change { return func(_, c map[string]any) { c[name] = v } }
	cases := []struct {
		name   string
		change change
		key    bool // sign with another key
		status int
		code   string
		detail string
	}{
		{"accepted", nil, false, 200, "", ""},
		{"alg HS256", func(h, _ map[string]any) { h["alg"] = "HS256" }, false, 401, "INTERNAL-TOKEN-2", `alg "HS256"`},
		{"alg none", func(h, _ map[string]any) { h["alg"] = "none" }, false, 401, "INTERNAL-TOKEN-2", `alg "none"`},
		{"alg RS512", func(h, _ map[string]any) { h["alg"] = "RS512" }, false, 401, "INTERNAL-TOKEN-2", `alg "RS512"`},
		{"no alg", func(h, _ map[string]any) { delete(h, "alg") }, false, 401, "INTERNAL-TOKEN-2", "no alg"},
		{"no kid", func(h, _ map[string]any) { delete(h, "kid") }, false, 401, "INTERNAL-TOKEN-2", "no kid"},
		{"wrong kid", func(h, _ map[string]any) { h["kid"] = "other" }, false, 401, "INTERNAL-TOKEN-2", `kid "other"`},
		{"another key", nil, true, 401, "INTERNAL-TOKEN-2", "signature"},
		{"wrong iss", set("iss", "other"), false, 401, "INTERNAL-TOKEN-4", `iss "other"`},
		{"wrong aud", set("aud", "qlik.api"), false, 401, "INTERNAL-TOKEN-4", `aud "qlik.api"`},
		{"aud array", set("aud", []string{qliktest.CloudAudience}), false, 400, "INTERNAL-TOKEN-1", "not an array"},
		{"subType", set("subType", "service"), false, 400, "INTERNAL-TOKEN-1", "subType"},
		{"email_verified string", set("email_verified", "true"), false, 400, "INTERNAL-TOKEN-1", "email_verified must be the JSON boolean"},
		{"groups string", set("groups", "Sales"), false, 400, "INTERNAL-TOKEN-1", "groups must be an array"},
		{"empty sub", set("sub", ""), false, 400, "INTERNAL-TOKEN-1", "sub is empty"},
		{"sub number", set("sub", 42), false, 400, "INTERNAL-TOKEN-1", "sub must be a JSON string"},
		{"iat fraction", set("iat", float64(now.Unix())+0.5), false, 400, "INTERNAL-TOKEN-1", "whole seconds"},
		{"exp string", set("exp", fmt.Sprint(now.Add(time.Minute).Unix())), false, 400, "INTERNAL-TOKEN-1", "NumericDate"},
		{"exp - nbf over an hour", set("nbf", now.Add(-2*time.Second-time.Hour).Unix()), false, 401, "INTERNAL-TOKEN-3", "at most 3600"},
		{"exp - iat over an hour", func(_, c map[string]any) {
			c["exp"] = now.Add(time.Hour).Unix()
			c["iat"], c["nbf"] = now.Add(-time.Minute).Unix(), now.Unix()
		}, false, 401, "INTERNAL-TOKEN-3", "at most 3600"},
		{"expired", func(_, c map[string]any) {
			c["nbf"], c["exp"] = now.Add(-time.Minute).Unix(), now.Add(-5*time.Second).Unix()
		}, false, 401, "INTERNAL-TOKEN-3", "expired"},
		{"expired within tolerance", set("exp", now.Add(-4*time.Second).Unix()), false, 200, "", ""},
		{"not yet valid", set("nbf", now.Add(6*time.Second).Unix()), false, 401, "INTERNAL-TOKEN-3", "not valid before"},
		{"nbf within tolerance", set("nbf", now.Add(5*time.Second).Unix()), false, 200, "", ""},
	}
	for _, name := range []string{"iss", "aud", "sub", "subType", "name", "email", "jti", "iat", "nbf", "exp"} {
		cases = append(cases, struct {
			name   string
			change change
			key    bool
			status int
			code   string
			detail string
		}{"missing " + name, del(name), false, 400, "INTERNAL-TOKEN-1", "Missing required claim: " + name})
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, c := cloudHeader(tenant), cloudClaims(tenant, now, fmt.Sprintf("jti-%d", i))
			if tc.change != nil {
				tc.change(h, c)
			}
			key := tenant.Key
			if tc.key {
				key = other
			}
			e, _ := login(t, tenant, signJWT(t, key, h, c))
			assert.Equal(t, tc.status, e.Status)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Detail, tc.detail)
		})
	}

	t.Run("malformed", func(t *testing.T) {
		for raw, detail := range map[string]string{
			"":                  "no Authorization",
			"abc":               "not a compact JWS",
			"a.b.c.d.e":         "encrypted tokens (JWE) are not accepted",
			"!!.e30.c2ln":       "outside the base64url alphabet",
			"e30=.e30.c2ln":     "outside the base64url alphabet",
			"e31.e30.c2ln":      "header is not base64url",
			"e30.e30.c2ln":      "alg",
			"bnVsbA.e30.c2ln":   "header is not a JSON object",
			"eyJhbGciOjF9.e30.": "alg",
		} {
			e, _ := login(t, tenant, raw)
			assert.Contains(t, []int{400, 401}, e.Status, raw)
			assert.Contains(t, e.Detail, detail, raw)
		}
		e, _ := login(t, tenant, "", "Authorization", "Basic dXNlcjpwdw==")
		assert.Equal(t, qlikErr{Status: 401, Code: "LOGIN-1"}, qlikErr{e.Status, e.Code, ""})
	})

	t.Run("tampered payload", func(t *testing.T) {
		raw := signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, now, "tampered"))
		c := cloudClaims(tenant, now, "tampered")
		c["sub"] = "admin"
		forged := strings.Split(signJWT(t, tenant.Key, cloudHeader(tenant), c), ".")
		parts := strings.Split(raw, ".")
		e, _ := login(t, tenant, parts[0]+"."+forged[1]+"."+parts[2])
		assert.Equal(t, "INTERNAL-TOKEN-2", e.Code)
	})

	t.Run("reused jti", func(t *testing.T) {
		raw := signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, now, "once"))
		e, _ := login(t, tenant, raw)
		require.Equal(t, 200, e.Status)
		e, _ = login(t, tenant, raw)
		assert.Equal(t, qlikErr{Status: 401, Code: "INTERNAL-TOKEN-5"}, qlikErr{e.Status, e.Code, ""})
	})
}

func TestCloudRateLimit(t *testing.T) {
	clock := qliktest.NewClock(start)
	tenant := qliktest.NewCloud(qliktest.CloudConfig{Now: clock.Now, LoginsPerMinute: 3})
	defer tenant.Close()
	for i := range 5 {
		e, _ := login(t, tenant, signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, clock.Now(), fmt.Sprint("r", i))))
		if i < 3 {
			assert.Equal(t, 200, e.Status, "login %d", i)
		} else {
			assert.Equal(t, qlikErr{Status: 429, Code: "LOGIN-RATE-1"}, qlikErr{e.Status, e.Code, ""}, "login %d", i)
		}
	}
	clock.Advance(time.Minute)
	e, _ := login(t, tenant, signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, clock.Now(), "later")))
	assert.Equal(t, 200, e.Status, "a minute later the window has moved")
	assert.Equal(t, 4, tenant.Logins())
	assert.Equal(t, 6, tenant.LoginAttempts())
}

func TestCloudCrossOrigin(t *testing.T) {
	const site = "https://mashup.example.com"
	tenant := qliktest.NewCloud(qliktest.CloudConfig{AllowedOrigins: []string{site}})
	defer tenant.Close()
	raw := signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, time.Now(), "cors"))

	resp, _, _ := do(t, tenant.Client(), http.MethodOptions, tenant.URL+"/login/jwt-session",
		map[string]string{"Origin": site, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,qlik-web-integration-id"})
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, site, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))

	e, _ := login(t, tenant, raw, "Origin", "https://evil.example.com", "qlik-web-integration-id", tenant.WebIntegrationID)
	assert.Equal(t, qlikErr{Status: 403, Code: "CORS-1"}, qlikErr{e.Status, e.Code, ""})
	e, _ = login(t, tenant, raw, "Origin", site)
	assert.Equal(t, qlikErr{Status: 403, Code: "CORS-2"}, qlikErr{e.Status, e.Code, ""}, "browser calls need the web integration ID")
	e, cookies := login(t, tenant, raw, "Origin", site, "qlik-web-integration-id", tenant.WebIntegrationID)
	assert.Equal(t, 200, e.Status)

	// A browser's engine WebSocket: no custom headers, so the web
	// integration ID comes as a query parameter.
	resp, _, _ = do(t, tenant.Client(), http.MethodGet, tenant.URL+"/api/v1/csrf-token", nil, cookies...)
	csrf := resp.Header.Get("qlik-csrf-token")
	hdr := http.Header{"Origin": {site}}
	for _, ck := range cookies {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws := strings.Replace(tenant.URL, "https", "wss", 1) + "/app/" + qliktest.SampleAppID + "?qlik-csrf-token=" + csrf
	status, we := wsUpgrade(t, tenant.Client(), ws, hdr)
	assert.Equal(t, qlikErr{Status: 403, Code: "CORS-2"}, qlikErr{status, we.Code, ""}, "no web integration ID")
	status, _ = wsUpgrade(t, tenant.Client(), ws+"&qlik-web-integration-id="+tenant.WebIntegrationID, hdr)
	assert.Equal(t, http.StatusSwitchingProtocols, status, "the ID as a query parameter")
	status, we = wsUpgrade(t, tenant.Client(), ws+"&qlik-web-integration-id=other", hdr)
	assert.Equal(t, qlikErr{Status: 403, Code: "CORS-2"}, qlikErr{status, we.Code, ""}, "another ID")
}

func TestCloudWithCallersCertificate(t *testing.T) {
	key := otherKey(t)
	base := qliktest.NewCloud(qliktest.CloudConfig{}) // only for a certificate and its key
	base.Close()
	tenant := qliktest.NewCloud(qliktest.CloudConfig{Certificate: base.Certificate, Issuer: "me", KeyID: "k1", PlainHTTP: true})
	defer tenant.Close()
	assert.Nil(t, tenant.Key, "with the caller's certificate the emulator holds no key")
	assert.True(t, strings.HasPrefix(tenant.URL, "http://"))
	e, _ := login(t, tenant, signJWT(t, base.Key, cloudHeader(tenant), cloudClaims(tenant, time.Now(), "c1")))
	assert.Equal(t, 200, e.Status, e.Detail)
	e, _ = login(t, tenant, signJWT(t, key, cloudHeader(tenant), cloudClaims(tenant, time.Now(), "c2")))
	assert.Equal(t, "INTERNAL-TOKEN-2", e.Code)
}
