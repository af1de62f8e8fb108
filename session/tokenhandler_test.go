package session

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

func TestCloudTokenHandler(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	h, err := NewCloudTokenHandler(r.cloud, siteUserOf(cloudUsers), WithTokenRate(2, time.Minute), WithClock(r.clock.Now))
	require.NoError(t, err)
	s := httptest.NewServer(h)
	defer s.Close()
	post := func(user, origin string, header ...string) (*http.Response, string) {
		return (&site{Server: s}).call(t, http.MethodPost, "/", user, origin, nil, append([]string{TokenRequestHeader, "1"}, header...)...)
	}

	resp, body := post("alice", s.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var got struct{ Token, ExpiresAt string }
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	v, err := qsjwt.NewCloudVerifier(testKey(t).Public(), qsjwt.WithIssuer(r.tenant.Issuer), qsjwt.WithKeyID(r.tenant.KeyID), qsjwt.WithClock(r.clock.Now))
	require.NoError(t, err)
	claims, err := v.Verify(got.Token)
	require.NoError(t, err)
	assert.Equal(t, "sub-alice", claims.Subject, "the site's user, whatever the page sends")
	// The tenant takes it.
	req, _ := http.NewRequest(http.MethodPost, r.tenant.URL+"/login/jwt-session", nil)
	req.Header.Set("Authorization", "Bearer "+got.Token)
	login, err := r.tenant.Client().Do(req)
	require.NoError(t, err)
	login.Body.Close()
	assert.Equal(t, http.StatusOK, login.StatusCode)

	resp, _ = post("alice", s.URL)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body = post("alice", s.URL)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	assert.Equal(t, "61", resp.Header.Get("Retry-After"))
	resp, _ = post("bob", s.URL)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the rate is per user")
	r.clock.Advance(time.Minute)
	resp, _ = post("alice", s.URL)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	for _, tc := range []struct {
		name, method, user, origin string
		header                     []string
		status                     int
		says                       string
	}{
		{"GET", http.MethodGet, "alice", s.URL, []string{TokenRequestHeader, "1"}, 405, "POST"},
		{"another site", http.MethodPost, "alice", "https://evil.example", []string{TokenRequestHeader, "1"}, 403, "evil.example"},
		{"no Origin", http.MethodPost, "alice", "", []string{TokenRequestHeader, "1"}, 403, "no Origin"},
		{"no header", http.MethodPost, "alice", s.URL, nil, 403, TokenRequestHeader},
		{"not signed in", http.MethodPost, "", s.URL, []string{TokenRequestHeader, "1"}, 401, "not signed in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := (&site{Server: s}).call(t, tc.method, "/", tc.user, tc.origin, nil, tc.header...)
			assert.Equal(t, tc.status, resp.StatusCode, body)
			assert.Contains(t, body, tc.says)
			assert.NotContains(t, body, "token\":")
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		})
	}
}

// The QSEoW token is what @qlik/api's windowscookie auth exchanges at
// GET <prefix>/qlik-embed/main.js for the proxy session.
func TestQSEoWTokenHandlerTokenOpensTheSessionAtQlikEmbed(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{})
	users := map[string]qsjwt.QSEoWUser{"alice": {UserDirectory: "CORP", UserID: "alice"}}
	h, err := NewQSEoWTokenHandler(r.qseow, siteUserOf(users), WithAllowedOrigins("https://www.corp.example"))
	require.NoError(t, err)
	s := httptest.NewServer(h)
	defer s.Close()
	resp, body := (&site{Server: s}).call(t, http.MethodPost, "/", "alice", "https://www.corp.example", strings.NewReader(""), TokenRequestHeader, "1")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var got struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &got))

	req, _ := http.NewRequest(http.MethodGet, r.proxy.ProxyURL+"/qlik-embed/main.js", nil)
	req.Header.Set("Authorization", "Bearer "+got.Token)
	js, err := r.proxy.Client().Do(req)
	require.NoError(t, err)
	js.Body.Close()
	assert.Equal(t, http.StatusOK, js.StatusCode)
	assert.NotEmpty(t, js.Cookies(), "the proxy session cookie")
	assert.Equal(t, 1, r.proxy.SessionsOpened(`CORP\alice`))
}
