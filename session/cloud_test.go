package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// me calls GET /api/v1/users/me and returns the subject.
func me(t testing.TB, c *http.Client, tenant string) string {
	t.Helper()
	resp, err := c.Get(tenant + "/api/v1/users/me")
	if !assert.NoError(t, err) {
		return ""
	}
	defer resp.Body.Close()
	if !assert.NoError(t, CheckResponse(resp)) {
		return ""
	}
	var u struct{ Subject string }
	assert.NoError(t, json.NewDecoder(resp.Body).Decode(&u))
	return u.Subject
}

// space calls POST /api/v1/spaces, which needs the CSRF token, and returns
// the status and the name the tenant read from the body.
func space(t testing.TB, c *http.Client, tenant, name string) (int, string) {
	t.Helper()
	resp, err := c.Post(tenant+"/api/v1/spaces", "application/json", strings.NewReader(`{"name":"`+name+`"}`))
	if !assert.NoError(t, err) {
		return 0, ""
	}
	defer resp.Body.Close()
	var s struct{ Name string }
	_ = json.NewDecoder(resp.Body).Decode(&s)
	return resp.StatusCode, s.Name
}

func TestCloudConcurrentUsersOneLoginEach(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{PlainHTTP: true}, "", "") // no TLS handshakes for 100 goroutines: a fast test
	users := []string{"anna", "bob", "carla", "dan"}
	var wg sync.WaitGroup
	for _, name := range users {
		s := r.session(t, cloudUser(name))
		c := s.Client()
		for g := range 25 {
			wg.Go(func() {
				for i := range 4 {
					if (g+i)%2 == 0 {
						assert.Equal(t, "sub-"+name, me(t, c, r.tenant.URL))
					} else {
						status, got := space(t, c, r.tenant.URL, name)
						assert.Equal(t, http.StatusCreated, status)
						assert.Equal(t, name, got)
					}
				}
			})
		}
	}
	wg.Wait()
	assert.Equal(t, len(users), r.tenant.Logins(), "100 goroutines, 400 calls, 4 users: one login per user")
	for _, name := range users {
		assert.Equal(t, 1, r.tenant.Logins("sub-"+name))
	}
	assert.Equal(t, len(users), r.tenant.CSRFTokenFetches(), "one CSRF fetch per session")
	assert.EqualValues(t, len(users), r.signs.Load(), "one signature per login")
}

func TestCloudLogsInAgainWhenTheSessionIsGone(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := r.session(t, cloudUser("anna"))
	c := s.Client()
	assert.Equal(t, "sub-anna", me(t, c, r.tenant.URL))
	status, _ := space(t, c, r.tenant.URL, "x")
	require.Equal(t, http.StatusCreated, status)

	// The tenant's idle timeout ends the session; the token has expired too.
	r.clock.Advance(qliktest.DefaultSessionTimeout + time.Minute)
	assert.Equal(t, "sub-anna", me(t, c, r.tenant.URL), "401, then a new login with a new token, then the call again")
	assert.Equal(t, 2, r.tenant.Logins())
	status, name := space(t, c, r.tenant.URL, "after")
	assert.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "after", name)
	assert.Equal(t, 2, r.tenant.CSRFTokenFetches(), "the new session's CSRF token is fetched")

	// A session ended under concurrent use: one new login.
	r.tenant.ExpireSessions()
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			assert.Equal(t, "sub-anna", me(t, c, r.tenant.URL))
			status, _ := space(t, c, r.tenant.URL, "y")
			assert.Equal(t, http.StatusCreated, status)
		})
	}
	wg.Wait()
	assert.Equal(t, 3, r.tenant.Logins(), "30 goroutines that all found the session gone log in once")
	assert.Equal(t, 3, r.tenant.LoginAttempts(), "and never with a used jti")

	// A body that cannot be read twice is not retried: the 401 comes back,
	// and the next call logs in.
	r.tenant.ExpireSessions()
	req, err := http.NewRequest(http.MethodPost, r.tenant.URL+"/api/v1/spaces", io.NopCloser(strings.NewReader(`{"name":"once"}`)))
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "sub-anna", me(t, c, r.tenant.URL))
	assert.Equal(t, 4, r.tenant.Logins())
}

func TestCloudRefreshesTheCSRFToken(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := r.session(t, cloudUser("anna"))
	c := s.Client()
	status, _ := space(t, c, r.tenant.URL, "one")
	require.Equal(t, http.StatusCreated, status)
	first, err := s.CSRFToken(context.Background())
	require.NoError(t, err)

	r.tenant.RotateCSRFTokens()
	status, name := space(t, c, r.tenant.URL, "two")
	assert.Equal(t, http.StatusCreated, status, "403 CSRF-TOKEN-2, a new CSRF token, the call again")
	assert.Equal(t, "two", name, "the body is sent again")
	assert.Equal(t, 2, r.tenant.CSRFTokenFetches())
	second, err := s.CSRFToken(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first, second)

	r.tenant.RotateCSRFTokens()
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			status, _ := space(t, c, r.tenant.URL, "z")
			assert.Equal(t, http.StatusCreated, status)
		})
	}
	wg.Wait()
	assert.Equal(t, 3, r.tenant.CSRFTokenFetches(), "30 goroutines with a stale token fetch a new one once")
	assert.Equal(t, 1, r.tenant.Logins())

	// A body that cannot be read twice is not retried: the 403 comes back,
	// and the next call has a fresh token.
	r.tenant.RotateCSRFTokens()
	req, err := http.NewRequest(http.MethodPost, r.tenant.URL+"/api/v1/spaces", io.NopCloser(strings.NewReader(`{"name":"once"}`)))
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	var qe *QlikError
	require.ErrorAs(t, CheckResponse(resp), &qe)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, qe.StatusCode)
	assert.Equal(t, "CSRF-TOKEN-2", qe.Code)
	status, _ = space(t, c, r.tenant.URL, "next")
	assert.Equal(t, http.StatusCreated, status)
}

func TestCloudRefusals(t *testing.T) {
	login := func(t *testing.T, r *cloudRig, u qsjwt.CloudUser) *QlikError {
		t.Helper()
		s := r.session(t, u)
		err := s.Login(context.Background())
		var qe *QlikError
		require.ErrorAs(t, err, &qe)
		assert.ErrorIs(t, err, ErrQlik)
		assert.Equal(t, "login", qe.Op)
		assert.Equal(t, http.MethodPost, qe.Method)
		assert.Equal(t, r.tenant.URL+"/login/jwt-session", qe.URL)

		// Through an http.Client the error comes wrapped in a *url.Error.
		_, err = s.Client().Get(r.tenant.URL + "/api/v1/users/me")
		var again *QlikError
		require.ErrorAs(t, err, &again)
		assert.Equal(t, qe.Code, again.Code)
		return qe
	}
	for _, tc := range []struct {
		name          string
		issuer, keyID string
		opts          []qsjwt.CloudOption
		cfg           qliktest.CloudConfig
		shift         time.Duration // the builder's clock against the tenant's
		status        int
		code          string
	}{
		{"wrong key ID", "", "other", nil, qliktest.CloudConfig{}, 0, 401, "INTERNAL-TOKEN-2"},
		{"wrong issuer", "other", "", nil, qliktest.CloudConfig{}, 0, 401, "INTERNAL-TOKEN-4"},
		{"our clock an hour behind", "", "", nil, qliktest.CloudConfig{}, -time.Hour, 401, "INTERNAL-TOKEN-3"},
		{"our clock ten seconds ahead, tolerance 5 s, skew 5 s", "", "", nil, qliktest.CloudConfig{}, 11 * time.Second, 401, "INTERNAL-TOKEN-3"},
		{"our clock ten seconds ahead, skew 10 s", "", "", []qsjwt.CloudOption{qsjwt.WithNotBeforeSkew(10 * time.Second)}, qliktest.CloudConfig{}, 10 * time.Second, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCloudRig(t, tc.cfg, tc.issuer, tc.keyID, append(tc.opts, qsjwt.WithClock(func() time.Time { return fixedNow.Add(tc.shift) }))...)
			if tc.status == 200 {
				require.NoError(t, r.session(t, cloudUser("anna")).Login(context.Background()))
				return
			}
			qe := login(t, r, cloudUser("anna"))
			assert.Equal(t, tc.status, qe.StatusCode)
			assert.Equal(t, tc.code, qe.Code)
			assert.NotEmpty(t, qe.Detail)
			assert.Contains(t, qe.Error(), tc.code)
		})
	}

	t.Run("rate limit", func(t *testing.T) {
		r := newCloudRig(t, qliktest.CloudConfig{LoginsPerMinute: 2}, "", "")
		for _, u := range []string{"a", "b"} {
			require.NoError(t, r.session(t, cloudUser(u)).Login(context.Background()))
		}
		qe := login(t, r, cloudUser("c"))
		assert.Equal(t, http.StatusTooManyRequests, qe.StatusCode)
		assert.Equal(t, "LOGIN-RATE-1", qe.Code)
		assert.Equal(t, time.Minute, qe.RetryAfter, "the tenant's Retry-After: 60")
	})

	t.Run("no token", func(t *testing.T) {
		r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
		boom := errors.New("signing service down")
		s, err := NewCloud(r.tenant.URL, qsjwt.TokenSourceFunc(func(context.Context) (qsjwt.Token, error) { return qsjwt.Token{}, boom }),
			WithBaseTransport(r.tenant.Client().Transport))
		require.NoError(t, err)
		err = s.Login(context.Background())
		assert.ErrorIs(t, err, boom)
		assert.ErrorIs(t, err, ErrSession)
		assert.Equal(t, 0, r.tenant.LoginAttempts())
	})

	t.Run("a refused login is tried again after its back-off", func(t *testing.T) {
		r := newCloudRig(t, qliktest.CloudConfig{}, "", "other")
		s, err := NewCloud(r.tenant.URL, r.cloud.TokenSource(cloudUser("anna")), WithBaseTransport(r.tenant.Client().Transport), WithClock(r.clock.Now))
		require.NoError(t, err)
		for range 3 {
			assert.Error(t, s.Login(context.Background()))
		}
		assert.Equal(t, 1, r.tenant.LoginAttempts(), "one refusal, then back-off")
		r.clock.Advance(refusedCap)
		assert.Error(t, s.Login(context.Background()))
		assert.Equal(t, 2, r.tenant.LoginAttempts())
		assert.Equal(t, 0, r.tenant.Logins())
	})
}

func TestCloudKeepsItselfToTheTenant(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	var seen http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { seen = req.Header.Clone() }))
	defer other.Close()
	s := r.session(t, cloudUser("anna"))
	require.NoError(t, s.Login(context.Background()))

	resp, err := s.Client().Post(other.URL+"/hook", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, seen.Get("Cookie"), "no session cookie leaves the tenant")
	assert.Empty(t, seen.Get("qlik-csrf-token"))
	assert.Empty(t, seen.Get("Authorization"))

	// The caller's request is not changed.
	req, err := http.NewRequest(http.MethodPost, r.tenant.URL+"/api/v1/spaces", strings.NewReader(`{"name":"n"}`))
	require.NoError(t, err)
	req.Header.Set("X-Mine", "1")
	resp, err = s.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, http.Header{"X-Mine": {"1"}}, req.Header)

	cookies, err := s.Cookies(context.Background())
	require.NoError(t, err)
	assert.Len(t, cookies, 3, "every cookie the tenant set is kept")
	assert.Equal(t, r.tenant.URL, s.Tenant())
}

func TestCloudEngineWebSocket(t *testing.T) {
	r := newCloudRig(t, qliktest.CloudConfig{}, "", "")
	s := r.session(t, cloudUser("anna"))
	wsURL, header, err := s.EngineWebSocket(context.Background(), "c1b2-app")
	require.NoError(t, err)
	csrf, err := s.CSRFToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(r.tenant.URL, "https://", "wss://", 1)+"/app/c1b2-app?qlik-csrf-token="+csrf, wsURL)
	assert.Contains(t, header.Get("Cookie"), qliktest.CloudSessionCookie+"=")
	assert.Empty(t, header.Get("Authorization"))
	assert.Equal(t, http.StatusSwitchingProtocols, wsStatus(t, r.tenant.Client().Transport, wsURL, header))

	_, _, err = s.EngineWebSocket(context.Background(), "")
	assert.ErrorIs(t, err, ErrSession)
}

func TestNewCloudChecksItsArguments(t *testing.T) {
	src := qsjwt.TokenSourceFunc(func(context.Context) (qsjwt.Token, error) { return qsjwt.Token{}, nil })
	for _, tc := range []struct {
		url  string
		src  qsjwt.TokenSource
		want string
	}{
		{"example.eu.qlikcloud.com", src, "base URL"},
		{"ftp://example.com", src, "base URL"},
		{"https://example.eu.qlikcloud.com/api", src, "no path"},
		{"https://user@example.eu.qlikcloud.com", src, "no path, query or user"},
		{"https://example.eu.qlikcloud.com", nil, "token source is nil"},
		{"https://exa mple.com", src, "tenant URL"},
	} {
		_, err := NewCloud(tc.url, tc.src)
		assert.ErrorIs(t, err, ErrSession, tc.url)
		assert.ErrorContains(t, err, tc.want, tc.url)
	}
	s, err := NewCloud("https://example.eu.qlikcloud.com/", src)
	require.NoError(t, err)
	assert.Equal(t, "https://example.eu.qlikcloud.com", s.Tenant())
}

func TestCheckResponse(t *testing.T) {
	mk := func(status int, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodDelete, "https://t.example.com/api/v1/items/1?secret=x", nil)
		return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Request: req}
	}
	assert.NoError(t, CheckResponse(mk(204, "")))
	resp := mk(404, `{"errors":[{"code":"ITEMS-4","title":"Not found","detail":"no item 1","status":404}]}`)
	err := CheckResponse(resp)
	var qe *QlikError
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, QlikError{Method: "DELETE", URL: "https://t.example.com/api/v1/items/1", StatusCode: 404, Code: "ITEMS-4", Title: "Not found", Detail: "no item 1"}, *qe)
	assert.Equal(t, "session: Qlik DELETE https://t.example.com/api/v1/items/1: 404 ITEMS-4 Not found no item 1", err.Error())
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), "ITEMS-4", "the body can still be read")

	err = CheckResponse(mk(502, "<html>"+strings.Repeat("x", 300)+"</html>"))
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "Bad Gateway", qe.Title)
	assert.Empty(t, qe.Code)
	assert.Len(t, []rune(qe.Detail), 201, "the start of a body that is not Qlik-shaped")
	assert.ErrorIs(t, err, ErrQlik)
	assert.Equal(t, fmt.Sprint(err), err.Error())
}
