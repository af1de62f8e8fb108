package session

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// The page of a signed-in user gets an impersonation token of the Qlik user
// with the same subject, which the handler creates the first time.
func TestOAuthTokenHandler(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	t.Cleanup(tenant.Close)
	id, secret, err := tenant.AddOAuthClient(qliktest.OAuthClient{Name: "site", Scopes: []string{"user_default"},
		GrantTypes: []string{GrantClientCredentials, GrantImpersonation}})
	require.NoError(t, err)
	oauth, err := NewOAuth(tenant.URL, id, WithClientSecret(secret), WithScopes("user_default"), WithBaseTransport(tenant.Client().Transport))
	require.NoError(t, err)
	h, err := NewOAuthTokenHandler(oauth, siteUserOf(cloudUsers))
	require.NoError(t, err)
	s := httptest.NewServer(h)
	defer s.Close()
	post := func(user string, header ...string) (*http.Response, string) {
		return (&site{Server: s}).call(t, http.MethodPost, "/", user, s.URL, nil, header...)
	}
	me := func(token string) map[string]any {
		req, _ := http.NewRequest(http.MethodGet, tenant.URL+"/api/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := tenant.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var u map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&u))
		return u
	}

	var first string
	for range 2 {
		resp, body := post("alice", TokenRequestHeader, "1")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		var got struct{ Token, ExpiresAt string }
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		u := me(got.Token)
		assert.Equal(t, cloudUsers["alice"].Subject, u["subject"], "the site's user, created and impersonated")
		assert.Equal(t, cloudUsers["alice"].Name, u["name"])
		if first == "" {
			first = got.Token
		}
		assert.Equal(t, first, got.Token, "cached by the OAuth client")
	}
	// One client credentials token (to create the user) and one
	// impersonation token: the second request asked the tenant nothing.
	assert.Equal(t, 2, tenant.OAuthTokenRequests())
	assert.Equal(t, 1, tenant.OAuthTokensIssued(cloudUsers["alice"].Subject))

	resp, body := post("alice")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	assert.Contains(t, body, TokenRequestHeader)
	resp, body = post("", TokenRequestHeader, "1")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	assert.NotContains(t, body, secret)

	_, err = NewOAuthTokenHandler(nil, siteUserOf(cloudUsers))
	assert.ErrorContains(t, err, "session.NewOAuth")
}
