package session

import (
	"context"
	"errors"
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

// newCloudFront starts a plain-http tenant with a fault injector in front.
func newCloudFront(t *testing.T, cfg qliktest.CloudConfig) (*cloudRig, *front) {
	t.Helper()
	cfg.PlainHTTP = true
	r := newCloudRig(t, cfg, "", "")
	return r, newFront(t, r.tenant.URL, r.tenant.Client().Transport)
}

// frontSession is a session for u through f, on the rig's clock.
func (r *cloudRig) frontSession(t *testing.T, f *front, src qsjwt.TokenSource, opts ...CloudOption) *Cloud {
	t.Helper()
	s, err := NewCloud(f.URL, src, append([]CloudOption{WithClock(r.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return s
}

func TestCloudBacksOffAfterARefusedLogin(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	wrong, _ := newCloudBuilder(t, "not-the-issuer", r.tenant.KeyID, qsjwt.WithClock(r.clock.Now))
	s := r.frontSession(t, f, wrong.TokenSource(cloudUser("noisy")))
	c := s.Client()

	var first *QlikError
	require.ErrorAs(t, s.Login(context.Background()), &first)
	assert.Equal(t, "INTERNAL-TOKEN-4", first.Code)
	for range 120 {
		_, err := c.Get(f.URL + "/api/v1/users/me")
		var be *BackoffError
		require.ErrorAs(t, err, &be, "a call in back-off gets a typed error at once")
		assert.ErrorIs(t, err, ErrBackoff)
		assert.True(t, be.Until.After(r.clock.Now()), "it says when the next try is allowed")
		var why *QlikError
		require.ErrorAs(t, err, &why, "and why")
		assert.Equal(t, "INTERNAL-TOKEN-4", why.Code)
	}
	assert.Equal(t, 1, f.seen("/login/jwt-session"), "120 calls of a refused user: one login POST")
	assert.Equal(t, 1, f.total(), "and no other request")
	assert.Equal(t, CloudStats{LoginAttempts: 1, Refusals: 1, BackedOff: 120}, s.Stats())

	// After the back-off, one more try; a second refusal waits longer.
	var be *BackoffError
	require.ErrorAs(t, s.Login(context.Background()), &be)
	firstWait := be.Until.Sub(r.clock.Now())
	r.clock.Advance(firstWait)
	require.Error(t, s.Login(context.Background()))
	assert.Equal(t, 2, f.seen("/login/jwt-session"))
	require.ErrorAs(t, s.Login(context.Background()), &be)
	assert.GreaterOrEqual(t, be.Until.Sub(r.clock.Now()), firstWait, "the step doubles (each wait is drawn from its step's upper half)")
}

func TestCloudBackOffIsShorterAfterA5xxThanAfterARefusedToken(t *testing.T) {
	wait := func(fault func(http.ResponseWriter, *http.Request, http.Handler), issuer string) time.Duration {
		r, f := newCloudFront(t, qliktest.CloudConfig{})
		if issuer == "" {
			issuer = r.tenant.Issuer
		}
		b, _ := newCloudBuilder(t, issuer, r.tenant.KeyID, qsjwt.WithClock(r.clock.Now))
		if fault != nil {
			f.set(once(1, nil, fault))
		}
		s := r.frontSession(t, f, b.TokenSource(cloudUser("anna")))
		require.Error(t, s.Login(context.Background()))
		var be *BackoffError
		require.ErrorAs(t, s.Login(context.Background()), &be)
		// A 5xx passes: after its back-off the login goes through.
		r.clock.Advance(be.Until.Sub(r.clock.Now()))
		if fault != nil {
			assert.NoError(t, s.Login(context.Background()), "recovered after the fault")
		}
		return be.Until.Sub(fixedNow)
	}
	unavailable := wait(func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		qlikAnswer(w, http.StatusServiceUnavailable, "HTTP-503", "")
	}, "")
	refused := wait(nil, "not-the-issuer")
	assert.Less(t, unavailable, refused, "a token Qlik refuses waits longer than a 503")
}

func TestCloudHonoursRetryAfter(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	f.set(once(1, pathIs("/login/jwt-session"), func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		qlikAnswer(w, http.StatusTooManyRequests, "LOGIN-RATE-1", "120")
	}))
	s := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("anna")))
	var qe *QlikError
	require.ErrorAs(t, s.Login(context.Background()), &qe)
	assert.Equal(t, 2*time.Minute, qe.RetryAfter, "Retry-After is on the error")
	assert.Contains(t, qe.Error(), "retry after 2m0s")

	var be *BackoffError
	require.ErrorAs(t, s.Login(context.Background()), &be)
	assert.Equal(t, fixedNow.Add(2*time.Minute), be.Until, "and honoured")
	r.clock.Advance(2*time.Minute - time.Second)
	require.ErrorAs(t, s.Login(context.Background()), &be)
	assert.Equal(t, 1, f.seen("/login/jwt-session"), "no login before Retry-After has passed")
	r.clock.Advance(time.Second)
	require.NoError(t, s.Login(context.Background()))
	assert.Equal(t, 2, f.seen("/login/jwt-session"))
	assert.Equal(t, CloudStats{LoginAttempts: 2, Logins: 1, Refusals: 1, BackedOff: 2}, s.Stats())
}

func TestCloudLoginBudgetKeepsANoisyUserFromStarvingTheTenant(t *testing.T) {
	const limit = 20
	r, f := newCloudFront(t, qliktest.CloudConfig{LoginsPerMinute: limit})
	budget, err := NewLoginBudget(limit, time.Minute)
	require.NoError(t, err)
	wrong, _ := newCloudBuilder(t, "not-the-issuer", r.tenant.KeyID, qsjwt.WithClock(r.clock.Now))
	noisy := r.frontSession(t, f, wrong.TokenSource(cloudUser("noisy")), WithLoginBudget(budget))

	var wg sync.WaitGroup
	wg.Go(func() {
		for range 120 {
			_, _ = noisy.Client().Get(f.URL + "/api/v1/users/me")
		}
	})
	sessions := make([]*Cloud, limit-1)
	for i := range sessions {
		sessions[i] = r.frontSession(t, f, r.cloud.TokenSource(cloudUser(string(rune('a'+i)))), WithLoginBudget(budget))
		wg.Go(func() {
			for range 3 {
				assert.Equal(t, "sub-"+string(rune('a'+i)), me(t, sessions[i].Client(), f.URL))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, int(noisy.Stats().LoginAttempts), "the noisy user tried once, then backed off")
	assert.Equal(t, limit-1, r.tenant.Logins(), "every other user logged in")
	assert.Equal(t, limit, r.tenant.LoginAttempts(), "and the tenant saw no more than its limit")

	// The budget is spent: the next user waits, with no request sent.
	late := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("late")), WithLoginBudget(budget))
	err = late.Login(context.Background())
	var be *BackoffError
	require.ErrorAs(t, err, &be)
	assert.ErrorIs(t, err, ErrLoginBudget)
	assert.Equal(t, fixedNow.Add(time.Minute), be.Until, "when the oldest login leaves the window")
	assert.Equal(t, limit, r.tenant.LoginAttempts())
	assert.Equal(t, BudgetStats{InUse: limit, Denied: 1}, budget.Stats())
	r.clock.Advance(time.Minute)
	assert.NoError(t, late.Login(context.Background()))

	_, err = NewLoginBudget(0, time.Minute)
	assert.ErrorIs(t, err, ErrSession)
}

func TestCloudLoginWithoutASessionCookieIsAnError(t *testing.T) {
	t.Run("Set-Cookie stripped", func(t *testing.T) {
		r, f := newCloudFront(t, qliktest.CloudConfig{})
		f.set(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if r.URL.Path != "/login/jwt-session" {
				return false
			}
			withoutSetCookie(w, r, next)
			return true
		})
		s := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("anna")))
		err := s.Login(context.Background())
		assert.ErrorIs(t, err, ErrNoSessionCookie)
		assert.ErrorIs(t, err, ErrSession)
		assert.ErrorContains(t, err, "set no cookie")
		for range 10 {
			_, err := s.Client().Get(f.URL + "/api/v1/users/me")
			assert.ErrorIs(t, err, ErrNoSessionCookie, "each call says why, from the back-off")
		}
		assert.Equal(t, 1, f.total(), "one login, no calls without a session")
	})
	t.Run("cookies the jar refuses", func(t *testing.T) {
		r, f := newCloudFront(t, qliktest.CloudConfig{})
		f.set(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if r.URL.Path != "/login/jwt-session" {
				return false
			}
			rec := &cookieRewriter{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			return true
		})
		s := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("anna")))
		err := s.Login(context.Background())
		assert.ErrorIs(t, err, ErrNoSessionCookie)
		assert.ErrorContains(t, err, "jar refused the 3 cookie(s)")
	})
}

// cookieRewriter gives every cookie a Domain not the tenant's: a jar refuses
// them.
type cookieRewriter struct{ http.ResponseWriter }

func (c *cookieRewriter) WriteHeader(status int) {
	h := c.Header()
	for i, v := range h["Set-Cookie"] {
		h["Set-Cookie"][i] = v + "; Domain=example.com"
	}
	c.ResponseWriter.WriteHeader(status)
}

func TestCloudSharedLoginIsDetachedFromItsStarter(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	entered, release := make(chan struct{}), make(chan struct{})
	f.set(once(1, pathIs("/login/jwt-session"), func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		close(entered)
		<-release
		next.ServeHTTP(w, r)
	}))
	s := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("anna")))

	ctx, cancel := context.WithCancel(context.Background())
	starter := make(chan error)
	go func() { starter <- s.Login(ctx) }()
	<-entered
	waiter := make(chan error)
	go func() { waiter <- s.Login(context.Background()) }()
	cancel()
	assert.ErrorIs(t, <-starter, context.Canceled, "the starter leaves at its own deadline")
	close(release)
	assert.NoError(t, <-waiter, "the waiter gets the login the starter began")
	assert.Equal(t, 1, f.seen("/login/jwt-session"), "one login, not a second one for the waiter")
	assert.Equal(t, "sub-anna", me(t, s.Client(), f.URL))
}

func TestCloudHangingLoginEndsAtTheLoginTimeout(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	f.set(once(1, pathIs("/login/jwt-session"), func(_ http.ResponseWriter, r *http.Request, _ http.Handler) {
		<-r.Context().Done() // a tenant that never answers
	}))
	s := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("anna")), WithLoginTimeout(50*time.Millisecond))
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			err := s.Login(context.Background()) // no deadline of their own
			assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBackoff), "%v", err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, f.seen("/login/jwt-session"))
	var be *BackoffError
	require.ErrorAs(t, s.Login(context.Background()), &be, "a hung login backs off like a 5xx")
	r.clock.Advance(be.Until.Sub(r.clock.Now()))
	assert.NoError(t, s.Login(context.Background()))

	_, err := NewCloud(f.URL, r.cloud.TokenSource(cloudUser("x")), WithLoginTimeout(-time.Second))
	assert.ErrorIs(t, err, ErrSession)
}

func TestCloudRedirectToAnotherServerCarriesNoSecret(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	other := newElsewhere(t)
	s := r.frontSession(t, f, r.cloud.TokenSource(cloudUser("anna")))
	require.NoError(t, s.Login(context.Background()))
	f.set(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/moved") {
			return false
		}
		redirectTo(http.StatusTemporaryRedirect, other.URL)(w, r, next)
		return true
	})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, err := http.NewRequest(method, f.URL+"/api/v1/moved", strings.NewReader("x"))
		require.NoError(t, err)
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, "the redirect was followed")
	}
	got := other.requests()
	require.Len(t, got, 2)
	for _, req := range got {
		assert.Empty(t, req.Header.Get("Cookie"), "no session cookie leaves the tenant")
		assert.Empty(t, req.Header.Get("qlik-csrf-token"))
		assert.Empty(t, req.Header.Get("Authorization"))
	}
}

func TestCloudPanickingTokenSourceIsAnError(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	s := r.frontSession(t, f, qsjwt.TokenSourceFunc(func(context.Context) (qsjwt.Token, error) { panic("signer bug") }))
	err := s.Login(context.Background())
	assert.ErrorIs(t, err, ErrSession)
	assert.ErrorContains(t, err, "signer bug")
	assert.Equal(t, 0, f.total())
}
