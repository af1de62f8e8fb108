package session

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// newQSEoWFront starts a plain-http virtual proxy with a fault injector in
// front, and a transport for u through it.
func newQSEoWFront(t *testing.T, u qsjwt.QSEoWUser, opts ...QSEoWOption) (*qseowRig, *front, *QSEoWTransport) {
	t.Helper()
	r := newQSEoWRig(t, qliktest.QSEoWConfig{PlainHTTP: true})
	f := newFront(t, r.proxy.URL, r.proxy.Client().Transport)
	tr, err := NewQSEoWTransport(f.URL+"/jwt", r.source(u), append([]QSEoWOption{WithClock(r.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return r, f, tr
}

// burst makes n concurrent GET qrs/about calls and counts their statuses.
func burst(t *testing.T, c *http.Client, proxy string, n int) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s := about(t, c, proxy)
			mu.Lock()
			statuses[s]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return statuses
}

func TestQSEoWTransportRedirectToAnotherServerCarriesNoSecret(t *testing.T) {
	r, f, tr := newQSEoWFront(t, qAnna)
	other := newElsewhere(t)
	f.set(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if r.URL.Path != "/jwt/qrs/moved" {
			return false
		}
		redirectTo(http.StatusFound, other.URL)(w, r, next)
		return true
	})
	c := tr.Client()
	moved := func() {
		resp, err := c.Get(f.URL + "/jwt/qrs/moved")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, "the redirect was followed")
	}
	moved() // sent alone, with the token
	require.Equal(t, http.StatusOK, about(t, c, f.URL+"/jwt"))
	require.Len(t, tr.Cookies(), 1)
	moved() // sent with the session cookie
	got := other.requests()
	require.Len(t, got, 2)
	for _, req := range got {
		assert.Empty(t, req.Header.Get("Authorization"), "the token stays with the proxy")
		assert.Empty(t, req.Header.Get("Cookie"), "and its session cookie")
		assert.Empty(t, req.Header.Get("X-Qlik-Xrfkey"), "and the xrfkey")
		assert.Empty(t, req.URL.Query().Get("xrfkey"))
	}
	assert.Equal(t, 1, r.proxy.SessionsOpened())
}

func TestQSEoWTransportReleasesABurstOnlyOnASessionCookie(t *testing.T) {
	t.Run("429 to the request sent alone", func(t *testing.T) {
		r, f, tr := newQSEoWFront(t, qAnna)
		f.set(once(1, nil, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
			qlikAnswer(w, http.StatusTooManyRequests, "HTTP-429", "")
		}))
		statuses := burst(t, tr.Client(), f.URL+"/jwt", 20)
		assert.Equal(t, map[int]int{http.StatusOK: 19, http.StatusTooManyRequests: 1}, statuses)
		assert.Equal(t, 1, r.proxy.SessionsOpened(), "the next request went alone and opened the one session")
		assert.Equal(t, 20, f.total(), "no request went out without a session and came back 401")
		assert.Equal(t, 0, r.proxy.SessionLimitRefusals())
	})
	t.Run("429 with Retry-After to the request sent alone", func(t *testing.T) {
		r, f, tr := newQSEoWFront(t, qAnna)
		f.set(once(1, nil, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
			qlikAnswer(w, http.StatusTooManyRequests, "HTTP-429", "30")
		}))
		c := tr.Client()
		assert.Equal(t, http.StatusTooManyRequests, about(t, c, f.URL+"/jwt"))
		for range 10 {
			_, err := c.Get(f.URL + "/jwt/qrs/about")
			var be *BackoffError
			require.ErrorAs(t, err, &be, "no session is opened before Retry-After")
			assert.Equal(t, fixedNow.Add(30*time.Second), be.Until)
			var qe *QlikError
			require.ErrorAs(t, err, &qe)
			assert.Equal(t, 30*time.Second, qe.RetryAfter)
		}
		assert.Equal(t, 1, f.total())
		r.clock.Advance(30 * time.Second)
		statuses := burst(t, c, f.URL+"/jwt", 20)
		assert.Equal(t, map[int]int{http.StatusOK: 20}, statuses)
		assert.Equal(t, 1, r.proxy.SessionsOpened())
		assert.Equal(t, QSEoWStats{Requests: 21, Alone: 2, Refusals: 1, BackedOff: 10}, tr.Stats())
	})
	t.Run("Set-Cookie lost on the answer that opened the session", func(t *testing.T) {
		r, f, tr := newQSEoWFront(t, qAnna)
		f.set(once(1, nil, withoutSetCookie))
		statuses := burst(t, tr.Client(), f.URL+"/jwt", 20)
		assert.Equal(t, map[int]int{http.StatusOK: 20}, statuses)
		assert.Equal(t, 2, r.proxy.SessionsOpened(), "the lost one and the next, sent alone")
		assert.Equal(t, 20, f.total(), "no request went out without a session and came back 401")
		assert.Equal(t, 0, r.proxy.SessionLimitRefusals())
	})
}

func TestQSEoWTransportSessionLostOnTheServerUnderLoad(t *testing.T) {
	r, f, tr := newQSEoWFront(t, qAnna)
	c := tr.Client()
	require.Equal(t, http.StatusOK, about(t, c, f.URL+"/jwt"))
	for event := range 3 {
		r.proxy.ExpireSessions() // a restart, or a timeout shorter than configured
		statuses := burst(t, c, f.URL+"/jwt", 30)
		assert.Equal(t, map[int]int{http.StatusOK: 30}, statuses)
		assert.Equal(t, event+2, r.proxy.SessionsOpened(), "one new session per event")
	}
	assert.Equal(t, 0, r.proxy.SessionLimitRefusals())
	assert.Equal(t, 1, r.proxy.ActiveSessions(`DIR\anna`))
	st := tr.Stats()
	assert.EqualValues(t, 4, st.Alone, "one request alone per session")
	assert.EqualValues(t, 1, r.signs.Load(), "one token for all of them")
}

func TestQSEoWTransportResignsWhenTheProxyClockIsAhead(t *testing.T) {
	for name, cached := range map[string]bool{"a source that signs per call": false, "the builder's caching source": true} {
		t.Run(name, func(t *testing.T) {
			r, f, tr := newQSEoWFront(t, qAnna)
			if cached { // q.TokenSource keeps its token: the transport must have it renewed
				var err error
				tr, err = NewQSEoWTransport(f.URL+"/jwt", r.qseow.TokenSource(qAnna), WithClock(r.clock.Now))
				require.NoError(t, err)
			}
			r.ahead.Store(int64(5 * time.Minute))
			c := tr.Client()
			require.Equal(t, http.StatusOK, about(t, c, f.URL+"/jwt"))

			// 56 minutes on, idle: the session has timed out, and the token
			// (which expires at 60 minutes by our clock) is still fresh for
			// us but expired for the proxy, whose clock reads 61 minutes.
			r.clock.Advance(56 * time.Minute)
			assert.Equal(t, http.StatusOK, about(t, c, f.URL+"/jwt"), "401 QPS-JWT-3, a new token, the call again")
			assert.EqualValues(t, 2, r.signs.Load())
			assert.EqualValues(t, 1, tr.Stats().Resigns)
			assert.Equal(t, 2, f.seen("/jwt/qrs/about")-1, "the refused try and the one with the new token")
			bearers := f.authorizations()
			require.Len(t, bearers, 3)
			assert.NotEqual(t, bearers[1], bearers[2])
		})
	}
}

func TestQSEoWTransportHungOpenerIsReplacedAfterTheLoginTimeout(t *testing.T) {
	r, f, tr := newQSEoWFront(t, qAnna, WithLoginTimeout(50*time.Millisecond))
	entered, release := make(chan struct{}), make(chan struct{})
	f.set(once(1, nil, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		close(entered)
		<-release // a proxy that sits on the first request
		next.ServeHTTP(w, r)
	}))
	c := tr.Client()
	opener := make(chan int)
	go func() { opener <- about(t, c, f.URL+"/jwt") }() // no deadline of its own
	<-entered
	statuses := burst(t, c, f.URL+"/jwt", 10)
	assert.Equal(t, map[int]int{http.StatusOK: 10}, statuses, "the others did not wait for the hung request")
	close(release)
	assert.Equal(t, http.StatusOK, <-opener)
	assert.LessOrEqual(t, r.proxy.SessionsOpened(), 2, "the hung one and its replacement at most")
	assert.Equal(t, 0, r.proxy.SessionLimitRefusals())
}

func TestQSEoWTransportOptions(t *testing.T) {
	_, err := NewQSEoWTransport("https://qlik.example.com/jwt", qsjwt.TokenSourceFunc(func(context.Context) (qsjwt.Token, error) { return qsjwt.Token{}, nil }),
		WithSessionTimeout(-time.Minute), WithLoginTimeout(-time.Second), nil)
	assert.ErrorIs(t, err, ErrSession)
	assert.ErrorContains(t, err, "WithSessionTimeout(-1m0s)")
	assert.ErrorContains(t, err, "WithLoginTimeout(-1s)", "every problem, not only the first")
	_, err = NewQSEoWTransport("https://qlik.example.com/jwt?x=1", nil)
	assert.ErrorIs(t, err, ErrSession)
	tr, err := NewQSEoWTransport("https://qlik.example.com/jwt/", qsjwt.TokenSourceFunc(func(context.Context) (qsjwt.Token, error) { return qsjwt.Token{}, nil }))
	require.NoError(t, err)
	assert.Equal(t, "https://qlik.example.com/jwt", tr.Proxy())
	assert.True(t, strings.HasPrefix(WithSessionTimeout(time.Hour).(interface{ String() string }).String(), "WithSessionTimeout(1h0m0s)"))
}
