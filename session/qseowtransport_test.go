package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

var qAnna = qsjwt.QSEoWUser{UserDirectory: "DIR", UserID: "anna"}

// about calls GET <proxy>/qrs/about and returns the status.
func about(t testing.TB, c *http.Client, proxy string) int {
	t.Helper()
	resp, err := c.Get(proxy + "/qrs/about")
	if !assert.NoError(t, err) {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestQSEoWTransportOneSessionOneSignature(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{PlainHTTP: true}) // no TLS handshakes for 50 goroutines: a fast test
	c := &http.Client{Transport: r.transport(t, qAnna)}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 4 {
				assert.Equal(t, http.StatusOK, about(t, c, r.proxy.ProxyURL))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, r.proxy.SessionsOpened(), "50 goroutines, 200 calls: one proxy session")
	assert.EqualValues(t, 1, r.signs.Load(), "and one signature")
}

func TestQSEoWTransportAddsTokenAndXrfkey(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		seen = append(seen, req.Clone(context.Background()))
		mu.Unlock()
	}))
	defer srv.Close()
	q, _ := newQSEoWBuilder(t, qsjwt.WithClock(func() time.Time { return fixedNow }))
	tr, err := NewQSEoWTransport(srv.URL+"/jwt", q.TokenSource(qAnna)) // no WithBaseTransport: http.DefaultTransport
	require.NoError(t, err)
	c := tr.Client()

	for _, path := range []string{"/jwt/qrs/about", "/jwt/qrs/app?filter=name%20eq%20'x'", "/jwt/qrs/app?xrfkey=mine0000mine0000&a=1"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("X-Mine", "1")
		before := req.URL.String()
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, before, req.URL.String(), "the caller's URL is not changed")
		assert.Equal(t, http.Header{"X-Mine": {"1"}}, req.Header, "nor its header")
	}
	require.Len(t, seen, 3)
	keys := map[string]bool{}
	for _, req := range seen {
		key := req.URL.Query().Get("xrfkey")
		assert.Len(t, key, 16)
		assert.Len(t, req.URL.Query()["xrfkey"], 1)
		assert.Equal(t, key, req.Header.Get("X-Qlik-Xrfkey"))
		assert.True(t, strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ey"))
		keys[key] = true
	}
	assert.Len(t, keys, 3, "a fresh xrfkey per request")
	assert.Equal(t, "name eq 'x'", seen[1].URL.Query().Get("filter"), "the caller's query is kept")
	assert.NotEqual(t, "mine0000mine0000", seen[2].URL.Query().Get("xrfkey"), "an xrfkey in the query is replaced")
	assert.Equal(t, "1", seen[2].URL.Query().Get("a"))
}

func TestQSEoWTransportRefreshesTokenAndSurvivesTimeout(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{})
	c := &http.Client{Transport: r.transport(t, qAnna)}
	for _, step := range []time.Duration{0, 29 * time.Minute, 29 * time.Minute} {
		r.clock.Advance(step)
		assert.Equal(t, http.StatusOK, about(t, c, r.proxy.ProxyURL))
	}
	r.clock.Advance(2 * time.Minute)
	assert.Equal(t, http.StatusOK, about(t, c, r.proxy.ProxyURL))
	assert.EqualValues(t, 1, r.signs.Load(), "at 60 minutes the session lives on with its cookie: no token needed")
	assert.Equal(t, 1, r.proxy.SessionsOpened(), "the session lives on: each call renews it")

	// Idle past the proxy's timeout: the session is gone. A burst of calls
	// opens one new session, not one each.
	r.clock.Advance(qliktest.DefaultSessionTimeout + time.Second)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { assert.Equal(t, http.StatusOK, about(t, c, r.proxy.ProxyURL)) })
	}
	wg.Wait()
	assert.Equal(t, 2, r.proxy.SessionsOpened(), "20 concurrent calls after a timeout open one session")
	assert.EqualValues(t, 2, r.signs.Load(), "with a new token: the first had expired")
	assert.Equal(t, 1, r.proxy.ActiveSessions(`DIR\anna`))
}

func TestQSEoWTransportUnderTheSessionLimit(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{})
	// One transport, many calls: one session.
	first := &http.Client{Transport: r.transport(t, qAnna)}
	for range 20 {
		require.Equal(t, http.StatusOK, about(t, first, r.proxy.ProxyURL))
	}
	assert.Equal(t, 1, r.proxy.ActiveSessions(`DIR\anna`))

	// Each new transport is a new session (a new browser, say); the sixth is
	// refused, and the first keeps working with its cookie.
	for i := 2; i <= 6; i++ {
		resp, err := r.transport(t, qAnna).Client().Get(r.proxy.ProxyURL + "/qrs/about")
		require.NoError(t, err)
		err = CheckResponse(resp)
		resp.Body.Close()
		if i <= 5 {
			assert.NoError(t, err)
			continue
		}
		var qe *QlikError
		require.ErrorAs(t, err, &qe, "session %d", i)
		assert.Equal(t, http.StatusForbidden, qe.StatusCode)
		assert.Equal(t, "QPS-SESSION-LIMIT", qe.Code)
	}
	assert.Equal(t, http.StatusOK, about(t, first, r.proxy.ProxyURL))
	assert.Equal(t, 5, r.proxy.SessionsOpened())
	assert.Equal(t, 1, r.proxy.SessionLimitRefusals())
}

func TestQSEoWTransportRefusals(t *testing.T) {
	t.Run("wrong audience", func(t *testing.T) {
		r := newQSEoWRig(t, qliktest.QSEoWConfig{Audience: "qlik-sense"}, qsjwt.WithAudience("other"))
		resp, err := (&http.Client{Transport: r.transport(t, qAnna)}).Get(r.proxy.ProxyURL + "/qrs/about")
		require.NoError(t, err)
		defer resp.Body.Close()
		var qe *QlikError
		require.ErrorAs(t, CheckResponse(resp), &qe)
		assert.Equal(t, qlikErrorOf(401, "QPS-JWT-4"), qlikErrorOf(qe.StatusCode, qe.Code))
	})
	t.Run("claim names differ", func(t *testing.T) {
		r := newQSEoWRig(t, qliktest.QSEoWConfig{UserIDClaim: "user", UserDirectoryClaim: "directory"})
		assert.Equal(t, http.StatusUnauthorized, about(t, &http.Client{Transport: r.transport(t, qAnna)}, r.proxy.ProxyURL))
		r2 := newQSEoWRig(t, qliktest.QSEoWConfig{UserIDClaim: "user", UserDirectoryClaim: "directory"},
			qsjwt.WithUserIDClaim("user"), qsjwt.WithUserDirectoryClaim("directory"), qsjwt.WithAlgorithm(qsjwt.RS512))
		assert.Equal(t, http.StatusOK, about(t, &http.Client{Transport: r2.transport(t, qAnna)}, r2.proxy.ProxyURL))
	})
	t.Run("no source", func(t *testing.T) {
		_, err := NewQSEoWTransport("http://127.0.0.1:1/jwt", nil)
		assert.ErrorIs(t, err, ErrSession)
		assert.ErrorContains(t, err, "token source is nil")
	})
	t.Run("refused claims", func(t *testing.T) {
		r := newQSEoWRig(t, qliktest.QSEoWConfig{})
		_, err := (&http.Client{Transport: r.transport(t, qsjwt.QSEoWUser{UserDirectory: "DIR"})}).Get(r.proxy.ProxyURL + "/qrs/about")
		var ce *qsjwt.ClaimError
		assert.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, ErrSession)
		assert.Equal(t, 0, r.proxy.SessionsOpened())
	})
	t.Run("a waiter's context ends", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		var once sync.Once
		slow := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			once.Do(func() { close(started) })
			select {
			case <-release:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
		})
		tr, err := NewQSEoWTransport("https://qlik.example.com/jwt", qsjwt.TokenSourceFunc(func(context.Context) (qsjwt.Token, error) { return qsjwt.Token{Raw: "t"}, nil }), WithBaseTransport(slow))
		require.NoError(t, err)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, "https://qlik.example.com/jwt/qrs/about", nil)
			resp, err := tr.RoundTrip(req)
			if assert.NoError(t, err) {
				resp.Body.Close()
			}
		}()
		<-started
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://qlik.example.com/jwt/qrs/about", nil)
		_, err = tr.RoundTrip(req)
		assert.True(t, errors.Is(err, context.Canceled), "a request waiting for the session opener stops when its context ends: %v", err)
		close(release)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func qlikErrorOf(status int, code string) QlikError { return QlikError{StatusCode: status, Code: code} }

func TestQSEoWTransportEngineWebSocket(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{})
	tr := r.transport(t, qAnna)
	wsURL, header, err := tr.EngineWebSocket(context.Background(), "app-1")
	require.NoError(t, err)
	u, err := url.Parse(wsURL)
	require.NoError(t, err)
	assert.Equal(t, "wss", u.Scheme)
	assert.Equal(t, "/jwt/app/app-1", u.Path)
	assert.NotEmpty(t, u.Query().Get("qlik-csrf-token"))
	assert.Equal(t, r.proxy.URL, header.Get("Origin"))
	assert.Contains(t, header.Get("Cookie"), "X-Qlik-Session-jwt=")
	assert.Empty(t, header.Get("Authorization"), "no Bearer on the upgrade")
	assert.Equal(t, http.StatusSwitchingProtocols, wsStatus(t, r.proxy.Client().Transport, wsURL, header))

	// The session is the one the REST calls use.
	assert.Equal(t, http.StatusOK, about(t, &http.Client{Transport: tr}, r.proxy.ProxyURL))
	assert.Equal(t, 1, r.proxy.SessionsOpened())
	assert.Len(t, tr.Cookies(), 1)

	_, _, err = tr.EngineWebSocket(context.Background(), "")
	assert.ErrorIs(t, err, ErrSession)
	_, err = NewQSEoWTransport("qlik.example.com/jwt", r.source(qAnna))
	assert.ErrorIs(t, err, ErrSession)
	elsewhere, err := NewQSEoWTransport(r.proxy.URL+"/elsewhere", r.source(qAnna), WithBaseTransport(r.proxy.Client().Transport))
	require.NoError(t, err)
	_, _, err = elsewhere.EngineWebSocket(context.Background(), "app-1")
	var qe *QlikError
	require.ErrorAs(t, err, &qe, "a proxy that does not answer is a Qlik error")
	assert.Equal(t, "csrf-token", qe.Op)
	assert.Equal(t, http.StatusNotFound, qe.StatusCode)
}
