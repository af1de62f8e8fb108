package session

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// site is a web site that serves a Proxy under /qlik/ and says who the
// user is from its own cookie "site" (a real site keeps a session; the
// tests name the user in the cookie).
type site struct {
	*httptest.Server
	proxy *Proxy
}

// siteUserOf is the site's user function: the cookie names a user, or
// there is none.
func siteUserOf[U any](users map[string]U) func(*http.Request) (U, error) {
	return func(r *http.Request) (U, error) {
		var zero U
		c, err := r.Cookie("site")
		if err != nil {
			return zero, errors.New("no site session cookie")
		}
		u, ok := users[c.Value]
		if !ok {
			return zero, errors.New("unknown site session")
		}
		return u, nil
	}
}

func newSite(t *testing.T, p *Proxy) *site {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/qlik/", http.StripPrefix("/qlik", p))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return &site{Server: s, proxy: p}
}

// call makes a request to the site as a page of origin would (origin ""
// sends none), signed in as user ("" for nobody).
func (s *site) call(t *testing.T, method, path, user, origin string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	require.NoError(t, err)
	if user != "" {
		req.AddCookie(&http.Cookie{Name: "site", Value: user})
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var cloudUsers = map[string]qsjwt.CloudUser{"alice": cloudUser("alice"), "bob": cloudUser("bob")}

func newCloudProxySite(t *testing.T, r *cloudRig, opts ...ProxyOption) *site {
	t.Helper()
	p, err := NewCloudProxy(r.tenant.URL, r.cloud, siteUserOf(cloudUsers),
		append([]ProxyOption{WithBaseTransport(r.tenant.Client().Transport), WithClock(r.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return newSite(t, p)
}

// openApp opens the engine WebSocket at wsURL as a page of origin does and
// returns the sample app's title through OpenDoc and GetAppLayout.
func openApp(t *testing.T, wsURL, origin string, cookie string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{"Origin": {origin}}
	if cookie != "" {
		h.Set("Cookie", "site="+cookie)
	}
	c, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if resp != nil {
			return "", errors.New(resp.Status)
		}
		return "", err
	}
	defer c.CloseNow()
	call := func(id, handle int, method string, params ...any) (map[string]any, error) {
		msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "handle": handle, "method": method, "params": params})
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			return nil, err
		}
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return nil, err
			}
			var m struct {
				ID     int
				Result map[string]any
				Error  map[string]any
			}
			require.NoError(t, json.Unmarshal(b, &m))
			if m.ID != id {
				continue // a notification
			}
			if m.Error != nil {
				return nil, errors.New(string(b))
			}
			return m.Result, nil
		}
	}
	if _, err := call(1, -1, "OpenDoc", qliktest.SampleAppID); err != nil {
		return "", err
	}
	res, err := call(2, 1, "GetAppLayout")
	if err != nil {
		return "", err
	}
	return res["qLayout"].(map[string]any)["qTitle"].(string), nil
}

func wsURLOf(s *site, path string) string { return "ws" + strings.TrimPrefix(s.URL, "http") + path }

func TestCloudProxyServesEachUserInTheirSession(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := newCloudProxySite(t, r)

	for _, u := range []string{"alice", "bob", "alice", "bob"} {
		// The browser's own cookies (even one named like Qlik's) and
		// Authorization never reach the tenant: a forwarded eas.sid would
		// stand in for the session's and be refused.
		resp, body := s.call(t, http.MethodGet, "/qlik/api/v1/users/me", u, "", nil,
			"Cookie", "eas.sid=forged; eas.sid.sig=forged", "Authorization", "Bearer not-for-qlik")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var me struct{ Name, Subject string }
		require.NoError(t, json.Unmarshal([]byte(body), &me))
		assert.Equal(t, u, me.Name)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), "Qlik's cookies stay on the server")
		assert.Empty(t, resp.Header.Get("qlik-csrf-token"))
	}
	assert.Equal(t, 2, r.tenant.Logins(), "one login per user, kept")
	assert.Equal(t, 2, s.proxy.Users())

	title, err := openApp(t, wsURLOf(s, "/qlik/app/"+qliktest.SampleAppID), s.URL, "alice")
	require.NoError(t, err)
	assert.Equal(t, qliktest.SampleAppTitle, title)
	assert.Equal(t, 2, r.tenant.Logins(), "the WebSocket uses the user's session")
}

func TestCloudProxyLogsInAgainWhenTheTenantEndsTheSession(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := newCloudProxySite(t, r)
	resp, _ := s.call(t, http.MethodGet, "/qlik/api/v1/users/me", "alice", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	r.tenant.ExpireSessions()
	resp, body := s.call(t, http.MethodGet, "/qlik/api/v1/users/me", "alice", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, 2, r.tenant.Logins())

	// The WebSocket handshake, too, logs in again (its 401), with the new
	// session's CSRF token.
	r.tenant.ExpireSessions()
	title, err := openApp(t, wsURLOf(s, "/qlik/app/"+qliktest.SampleAppID), s.URL, "alice")
	require.NoError(t, err)
	assert.Equal(t, qliktest.SampleAppTitle, title)
	assert.Equal(t, 3, r.tenant.Logins())

	r.tenant.RotateCSRFTokens() // 403 CSRF-TOKEN-2 once, then the new token
	_, err = openApp(t, wsURLOf(s, "/qlik/app/"+qliktest.SampleAppID), s.URL, "alice")
	require.NoError(t, err)
	assert.Equal(t, 3, r.tenant.Logins())
}

func TestCloudProxyForwardsNonGETWithTheCSRFToken(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := newCloudProxySite(t, r, WithAllowedPaths("POST /api/v1/spaces"))
	resp, body := s.call(t, http.MethodPost, "/qlik/api/v1/spaces", "alice", s.URL, strings.NewReader(`{"name":"sales"}`), "Content-Type", "application/json")
	assert.Equal(t, http.StatusCreated, resp.StatusCode, body)

	// A stale CSRF token is fetched again and the buffered body sent again.
	r.tenant.RotateCSRFTokens()
	resp, body = s.call(t, http.MethodPost, "/qlik/api/v1/spaces", "alice", s.URL, strings.NewReader(`{"name":"ops"}`), "Content-Type", "application/json")
	assert.Equal(t, http.StatusCreated, resp.StatusCode, body)
	assert.Contains(t, body, `"name":"ops"`)
}

func TestProxyRefusals(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := newCloudProxySite(t, r, WithAllowedPaths("GET /api/v1/users/me", "POST /api/v1/spaces", "GET /app/{appId}"), WithMaxRequestBody(64))
	foreign := "https://evil.example"
	for _, tc := range []struct {
		name, method, path, user, origin string
		body                             string
		header                           []string
		status                           int
		says                             string
	}{
		{"not on the allow-list", "GET", "/qlik/api/v1/api-keys", "alice", "", "", nil, 404, "allow-list"},
		{"wrong method", "DELETE", "/qlik/api/v1/users/me", "alice", "", "", nil, 404, "allow-list"},
		{"dot segments", "GET", "/qlik/api/v1/users/../api-keys", "alice", "", "", nil, 404, "allow-list"},
		{"not signed in", "GET", "/qlik/api/v1/users/me", "", "", "", nil, 401, "not signed in to the site"},
		{"unknown site user", "GET", "/qlik/api/v1/users/me", "mallory", "", "", nil, 401, "not signed in"},
		{"POST from another site", "POST", "/qlik/api/v1/spaces", "alice", foreign, `{"name":"x"}`, nil, 403, "comes from https://evil.example"},
		{"POST without Origin", "POST", "/qlik/api/v1/spaces", "alice", "", `{"name":"x"}`, nil, 403, "no Origin"},
		{"GET marked cross-site", "GET", "/qlik/api/v1/users/me", "alice", "", "", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-site"},
		{"body too large", "POST", "/qlik/api/v1/spaces", "alice", "", strings.Repeat("x", 65), nil, 413, "64 bytes"},
		{"WebSocket from another site", "GET", "/qlik/app/" + qliktest.SampleAppID, "alice", foreign, "",
			[]string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, 403, "evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			origin := tc.origin
			if origin == "" && tc.method == "POST" && tc.name == "body too large" {
				origin = s.URL
			}
			resp, got := s.call(t, tc.method, tc.path, tc.user, origin, body, tc.header...)
			assert.Equal(t, tc.status, resp.StatusCode, got)
			assert.Contains(t, got, tc.says)
			var problem struct{ Error, Check string }
			require.NoError(t, json.Unmarshal([]byte(got), &problem), "a page can read the refusal")
			assert.NotEmpty(t, problem.Check)
		})
	}
	assert.Zero(t, r.tenant.LoginAttempts(), "no refused request reached the tenant")
	// A body of unknown length (chunked) is cut at the limit too.
	resp, got := s.call(t, http.MethodPost, "/qlik/api/v1/spaces", "alice", s.URL, io.MultiReader(strings.NewReader(strings.Repeat("x", 65))))
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, got)
	assert.Zero(t, r.tenant.LoginAttempts(), "nothing was forwarded")

	_, err := openApp(t, wsURLOf(s, "/qlik/app/"+qliktest.SampleAppID), "https://evil.example", "alice")
	assert.ErrorContains(t, err, "403")
}

func TestProxyLoginRefusedOrRateLimitedIsExplained(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{LoginsPerMinute: 1}, "", "")
	s := newCloudProxySite(t, r)
	resp, _ := s.call(t, http.MethodGet, "/qlik/api/v1/users/me", "alice", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The tenant's 429 on bob's login: 503 with its Retry-After, then the
	// session backs off without asking the tenant again.
	resp, body := s.call(t, http.MethodGet, "/qlik/api/v1/users/me", "bob", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "429")
	attempts := r.tenant.LoginAttempts()
	resp, body = s.call(t, http.MethodGet, "/qlik/api/v1/users/me", "bob", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Equal(t, attempts, r.tenant.LoginAttempts())

	// A refused token (wrong key ID) is a 502 that names what to check.
	r2 := newCloudRig(t, qliktest.CloudConfig{}, "", "wrong-key-id")
	s2 := newCloudProxySite(t, r2)
	resp, body = s2.call(t, http.MethodGet, "/qlik/api/v1/users/me", "alice", "", nil)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, body)
	assert.Contains(t, body, "key ID")
}

func TestProxyDropsIdleSessionsAndKeepsAtMostMaxUsers(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := newCloudProxySite(t, r, WithIdleTimeout(time.Minute), WithMaxUsers(1))
	get := func(u string) {
		resp, body := s.call(t, http.MethodGet, "/qlik/api/v1/users/me", u, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	}
	get("alice")
	get("bob") // alice makes room
	assert.Equal(t, 1, s.proxy.Users())
	get("alice")
	assert.Equal(t, 3, r.tenant.Logins(), "alice's session was dropped for bob")

	r.clock.Advance(2 * time.Minute)
	get("alice")
	assert.Equal(t, 4, r.tenant.Logins(), "an idle session is dropped")

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "site", Value: "alice"})
	require.NoError(t, s.proxy.Drop(req))
	assert.Zero(t, s.proxy.Users())
}

func TestQSEoWProxy(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{})
	users := map[string]qsjwt.QSEoWUser{"alice": {UserDirectory: "CORP", UserID: "alice"}, "bob": {UserDirectory: "CORP", UserID: "bob"}}
	p, err := NewQSEoWProxy(r.proxy.ProxyURL, r.qseow, siteUserOf(users), WithBaseTransport(r.proxy.Client().Transport), WithClock(r.clock.Now))
	require.NoError(t, err)
	s := newSite(t, p)
	for _, u := range []string{"alice", "bob", "alice"} {
		resp, body := s.call(t, http.MethodGet, "/qlik/qps/user", u, "", nil, "Cookie", "X-Qlik-Session-jwt=forged")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Contains(t, body, `"userId":"`+u+`"`)
		assert.Empty(t, resp.Header.Values("Set-Cookie"))
	}
	assert.Equal(t, 1, r.proxy.SessionsOpened(`CORP\alice`))
	title, err := openApp(t, wsURLOf(s, "/qlik/app/"+qliktest.SampleAppID), s.URL, "bob")
	require.NoError(t, err)
	assert.Equal(t, qliktest.SampleAppTitle, title)

	// After the server lost its sessions the WebSocket opens a new one.
	r.proxy.ExpireSessions()
	_, err = openApp(t, wsURLOf(s, "/qlik/app/"+qliktest.SampleAppID), s.URL, "bob")
	require.NoError(t, err)
	assert.Equal(t, 2, r.proxy.SessionsOpened(`CORP\bob`))
}

func TestProxyConstructorsRefuseBadSettings(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	users := siteUserOf(cloudUsers)
	for _, tc := range []struct {
		tenant string
		opts   []ProxyOption
		says   string
	}{
		{"https://t.example/path", nil, "no path"},
		{r.tenant.URL, []ProxyOption{WithAllowedPaths("api/v1/users/me")}, "absolute path"},
		{r.tenant.URL, []ProxyOption{WithAllowedPaths("GET /a", "GET /a")}, "WithAllowedPaths"},
		{r.tenant.URL, []ProxyOption{WithAllowedOrigins("https://site.example/")}, "no path"},
		{r.tenant.URL, []ProxyOption{WithQSEoWSessionOptions(WithSessionTimeout(time.Minute))}, "WithCloudSessionOptions"},
		{r.tenant.URL, []ProxyOption{WithMaxRequestBody(-1)}, "WithMaxRequestBody"},
	} {
		_, err := NewCloudProxy(tc.tenant, r.cloud, users, tc.opts...)
		assert.ErrorContains(t, err, tc.says)
	}
	_, err := NewCloudProxy(r.tenant.URL, nil, users)
	assert.ErrorIs(t, err, ErrSession)
}

// The proxy streams Qlik's answer as it comes and keeps Qlik's cookies,
// CSRF token and CORS headers from the page. The tenant here is a small
// stand-in with an endpoint that answers in two parts.
func TestProxyStreamsAndFiltersTheAnswer(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/jwt-session", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s1", Path: "/"})
		_, _ = io.WriteString(w, "{}")
	})
	mux.HandleFunc("GET /api/v1/stream", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sid"); err != nil || c.Value != "s1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h := w.Header()
		h.Set("Set-Cookie", "tracker=1; Path=/")
		h.Set("qlik-csrf-token", "not-for-the-page")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	})
	tenant := httptest.NewServer(mux)
	defer tenant.Close()
	defer close(release)
	cloud, _ := newCloudBuilder(t, "iss.example", "kid")
	p, err := NewCloudProxy(tenant.URL, cloud, siteUserOf(cloudUsers), WithAllowedPaths("GET /api/v1/stream"))
	require.NoError(t, err)
	s := newSite(t, p)

	req, _ := http.NewRequest(http.MethodGet, s.URL+"/qlik/api/v1/stream", nil)
	req.AddCookie(&http.Cookie{Name: "site", Value: "alice"})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("Set-Cookie"))
	assert.Empty(t, resp.Header.Get("qlik-csrf-token"))
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))

	first := make(chan string, 1)
	go func() {
		b := make([]byte, len("first\n"))
		_, _ = io.ReadFull(resp.Body, b)
		first <- string(b)
	}()
	select {
	case got := <-first:
		assert.Equal(t, "first\n", got, "the first part arrives while Qlik still writes")
	case <-time.After(10 * time.Second):
		t.Fatal("the first part did not arrive before the answer ended: the proxy does not stream")
	}
}
