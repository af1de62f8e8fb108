package qliktest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// A page of an origin an OAuth client allows calls the tenant with an
// impersonation token as @qlik/api does in a browser (O-CORS-1, O-WS-1).
func TestOAuthFromABrowserPage(t *testing.T) {
	const page, other = "https://www.corp.test", "https://evil.test"
	clock := qliktest.NewClock(start)
	c := qliktest.NewCloud(qliktest.CloudConfig{Now: clock.Now})
	t.Cleanup(c.Close)
	_, _, err := c.AddOAuthClient(qliktest.OAuthClient{Name: "bad", AllowedOrigins: []string{"https://*.corp.test"}})
	require.ErrorContains(t, err, "allowedOrigins")
	id, secret, err := c.AddOAuthClient(qliktest.OAuthClient{Name: "portal", Scopes: []string{"user_default"},
		GrantTypes: []string{qliktest.GrantClientCredentials, qliktest.GrantImpersonation}, AllowedOrigins: []string{page}})
	require.NoError(t, err)
	hc := c.Client()
	post := func(path string, body any, hdr map[string]string) (int, map[string]any) {
		js, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, c.URL+path, bytes.NewReader(js))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	// The site's backend: the client's token creates the user, then an
	// impersonation token for the page.
	status, out := post("/oauth/token", map[string]any{"grant_type": qliktest.GrantClientCredentials, "client_id": id, "client_secret": secret}, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	status, out = post("/api/v1/users", map[string]string{"subject": "sam-1", "name": "Sam", "email": "sam@example.com"},
		map[string]string{"Authorization": "Bearer " + out["access_token"].(string)})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = post("/oauth/token", map[string]any{"grant_type": qliktest.GrantImpersonation, "client_id": id, "client_secret": secret,
		"scope": "user_default", "user_lookup": map[string]string{"field": "subject", "value": "sam-1"}}, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	access := out["access_token"].(string)

	// CORS: the preflight and the call of an allowed origin pass without a
	// web integration; another origin, or a call without a token, does not.
	resp, _, _ := do(t, hc, http.MethodOptions, c.URL+"/api/v1/users/me", map[string]string{"Origin": page,
		"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, page, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	resp, body, _ := do(t, hc, http.MethodGet, c.URL+"/api/v1/users/me", map[string]string{"Origin": page, "Authorization": "Bearer " + access})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, page, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, string(body), `"subject":"sam-1"`)
	_, _, q := do(t, hc, http.MethodGet, c.URL+"/api/v1/users/me", map[string]string{"Origin": other, "Authorization": "Bearer " + access})
	assert.Equal(t, qlikErr{Status: http.StatusForbidden, Code: "CORS-1", Detail: "origin " + other + " is not allowed by a web integration"}, q)
	_, _, q = do(t, hc, http.MethodGet, c.URL+"/api/v1/users/me", map[string]string{"Origin": page})
	assert.Equal(t, "CORS-1", q.Code, "a call of the page without a token is a web integration's call")

	// The token exchange for the engine WebSocket.
	exchange := func(body map[string]any) (int, map[string]any) {
		b := map[string]any{"grant_type": qliktest.GrantTokenExchange, "subject_token": access,
			"subject_token_type": "urn:ietf:params:oauth:token-type:access_token", "purpose": "websocket", "client_id": id}
		for k, v := range body {
			b[k] = v
		}
		return post("/oauth/token", b, map[string]string{"Origin": page})
	}
	for _, bad := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"client_id": "another"}, "invalid_client"},
		{map[string]any{"subject_token": "not-a-token"}, "invalid_grant"},
		{map[string]any{"subject_token_type": "urn:ietf:params:oauth:token-type:jwt"}, "invalid_request"},
		{map[string]any{"purpose": "anything"}, "invalid_request"},
	} {
		status, out := exchange(bad.body)
		assert.Equal(t, http.StatusBadRequest, status, "%v", bad.body)
		assert.Equal(t, bad.code, out["error"], "%v", bad.body)
	}
	status, out = exchange(nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	temp := out["access_token"].(string)
	assert.NotEqual(t, access, temp)
	_, _, q = do(t, hc, http.MethodGet, c.URL+"/api/v1/users/me", map[string]string{"Authorization": "Bearer " + temp})
	assert.Equal(t, http.StatusUnauthorized, q.Status, "a temporary token is for the WebSocket only")

	ws := "wss" + c.URL[len("https"):] + "/app/" + qliktest.SampleAppID + "?" + url.Values{"accessToken": {temp}}.Encode()
	code, _ := wsUpgrade(t, hc, ws, http.Header{"Origin": {page}})
	assert.Equal(t, http.StatusSwitchingProtocols, code)
	code, _ = wsUpgrade(t, hc, ws, http.Header{"Origin": {page}})
	assert.Equal(t, http.StatusUnauthorized, code, "a temporary token is used once")

	status, out = exchange(nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	clock.Advance(qliktest.TemporaryTokenLifetime)
	ws = "wss" + c.URL[len("https"):] + "/app/" + qliktest.SampleAppID + "?" + url.Values{"accessToken": {out["access_token"].(string)}}.Encode()
	code, _ = wsUpgrade(t, hc, ws, http.Header{"Origin": {page}})
	assert.Equal(t, http.StatusUnauthorized, code, "an expired temporary token")
}
