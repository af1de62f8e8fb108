package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/internal/sharedcall"
)

// Cloud is one user's session with a Qlik Cloud tenant, made from tokens.
// It logs in once (POST /login/jwt-session with a token from its source),
// keeps every cookie the tenant sets, and fetches the CSRF token (GET
// /api/v1/csrf-token) when a call needs it.
//
// As an [http.RoundTripper] (see also [Cloud.Client]) it sends the session
// cookies with each request to the tenant and the header qlik-csrf-token
// with each request whose method is not GET, HEAD or OPTIONS. When the
// tenant answers 403 with code CSRF-TOKEN-2 it fetches the CSRF token again
// and retries once; when it answers 401 (the session is gone) it logs in
// again with a new token and retries once. A request whose body cannot be
// sent again (no GetBody; http.NewRequest sets it for the usual body types)
// is not retried: its 401 or 403 response is returned, and the next request
// uses the renewed session. Requests to any other origin (scheme, host,
// port), such as a redirect's target, pass through to the base transport
// untouched: no cookie, token or CSRF header leaves the tenant.
//
// A refused or failed login starts a back-off: until it ends, calls that
// need a login get a [*BackoffError] at once, with no request sent. It
// doubles with each refusal in a row (with jitter, capped); a refusal Qlik
// will repeat (a refused token, a login that sets no cookie) waits longer
// than one that may pass (5xx, 429, a network error); a Retry-After that
// asks for longer is honoured. Give every Cloud of one tenant the same
// [LoginBudget] so that together they keep under the tenant's login limit.
//
// A Cloud is safe for concurrent use. However many goroutines use it, it
// runs one login at a time and one CSRF fetch at a time: callers that need
// a session while a login is in flight wait for that login and share its
// outcome, so a burst of calls makes one login, not one per call (Qlik Cloud
// allows 100 logins per minute per tenant). The shared login runs under its
// own context, bounded by [WithLoginTimeout] and detached from the caller
// that started it; each caller still leaves at its own deadline. Keep one
// Cloud per user for as long as the user works. It never changes the
// caller's request. It formats without its cookies or CSRF token.
type Cloud struct {
	tenant *url.URL
	src    qsjwt.TokenSource
	common
	budget *LoginBudget

	mu        sync.Mutex
	gen       int            // counts logins; requests remember the one they used
	live      bool           // logged in and not known to be gone
	jar       http.CookieJar // the cookies of login gen
	csrf      string         // the CSRF token of login gen, "" until fetched
	loggingIn *sharedcall.Call[http.CookieJar]
	fetching  *sharedcall.Call[string]
	fails     int       // refused logins in a row
	notBefore time.Time // no login before then
	lastErr   error     // the refusal that set notBefore

	stats struct{ attempts, logins, refusals, backedOff, csrfFetches atomic.Int64 }
}

// CloudStats are a [Cloud]'s counts since it was made.
type CloudStats struct {
	// LoginAttempts counts POST /login/jwt-session sent; Logins those that
	// opened a session; Refusals those refused or failed.
	LoginAttempts, Logins, Refusals int64
	// BackedOff counts calls answered at once with a *BackoffError.
	BackedOff int64
	// CSRFFetches counts GET /api/v1/csrf-token sent.
	CSRFFetches int64
}

// NewCloud returns a session with the tenant at tenantURL (e.g.
// "https://example.eu.qlikcloud.com") for the user whose tokens src gives.
// src must give a new token on each call, such as qsjwt's
// Cloud.TokenSource: each login exchanges one token, and Qlik refuses a
// reused jti. Nothing is sent until the first request or [Cloud.Login].
func NewCloud(tenantURL string, src qsjwt.TokenSource, opts ...CloudOption) (*Cloud, error) {
	u, err := parseBase(tenantURL, "tenant", "https://example.eu.qlikcloud.com", false)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("%w: the token source is nil; give cloud.TokenSource(user)", ErrSession)
	}
	s := &Cloud{tenant: u, src: src, common: defaults()}
	var errs []error
	for _, o := range opts {
		if o != nil {
			errs = append(errs, o.applyCloud(s))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Tenant returns the tenant's base URL, e.g. "https://example.eu.qlikcloud.com".
func (s *Cloud) Tenant() string { return s.tenant.String() }

// Client returns an HTTP client whose transport is s.
func (s *Cloud) Client() *http.Client { return &http.Client{Transport: s} }

// Stats returns the session's counts.
func (s *Cloud) Stats() CloudStats {
	return CloudStats{LoginAttempts: s.stats.attempts.Load(), Logins: s.stats.logins.Load(), Refusals: s.stats.refusals.Load(),
		BackedOff: s.stats.backedOff.Load(), CSRFFetches: s.stats.csrfFetches.Load()}
}

// Format prints the tenant and whether the session is live, never a cookie
// or token, for every verb.
func (s *Cloud) Format(f fmt.State, _ rune) {
	s.mu.Lock()
	live := s.live
	s.mu.Unlock()
	fmt.Fprintf(f, "session.Cloud{tenant: %s, live: %t}", s.tenant, live)
}

// Login logs in unless the session is live, and returns the error of the
// login: a [*QlikError] when Qlik refused it, a [*BackoffError] while
// backing off. Calling it is optional: the first request logs in.
func (s *Cloud) Login(ctx context.Context) error {
	_, err := s.ensure(ctx, false)
	return err
}

// CSRFToken returns the session's CSRF token, logging in and fetching it
// first when needed.
func (s *Cloud) CSRFToken(ctx context.Context) (string, error) {
	st, err := s.ensure(ctx, true)
	return st.csrf, err
}

// Cookies returns the cookies of the live session, logging in first when
// needed: what a WebSocket client or another HTTP client needs to act in
// the session. The caller owns the returned slice.
func (s *Cloud) Cookies(ctx context.Context) ([]*http.Cookie, error) {
	st, err := s.ensure(ctx, false)
	if err != nil {
		return nil, err
	}
	return st.jar.Cookies(s.tenant), nil
}

// state is what one request uses: the login it belongs to, its cookies and
// its CSRF token.
type state struct {
	gen  int
	jar  http.CookieJar
	csrf string
}

// ensure returns a live session state, with a CSRF token when needCSRF,
// logging in or fetching as needed. Concurrent callers share one login and
// one fetch, each run detached from the callers (see detached).
func (s *Cloud) ensure(ctx context.Context, needCSRF bool) (state, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	for logins := 0; ; {
		s.mu.Lock()
		switch {
		case !s.live && s.loggingIn != nil:
			c := s.loggingIn
			s.mu.Unlock()
			if _, err := c.WaitDetached(ctx); err != nil {
				return state{}, err
			}
		case !s.live:
			if logins++; logins > 2 {
				s.mu.Unlock()
				return state{}, fmt.Errorf("%w: the tenant ended the session right after each of two logins", ErrSession)
			}
			if err := s.mayLogIn(); err != nil {
				s.mu.Unlock()
				s.stats.backedOff.Add(1)
				return state{}, err
			}
			c := sharedcall.New[http.CookieJar]()
			s.loggingIn = c
			s.mu.Unlock()
			go c.Run(detached(ctx, s, s.login), s.loggedIn)
			if _, err := c.WaitDetached(ctx); err != nil {
				return state{}, err
			}
		case needCSRF && s.csrf == "" && s.fetching != nil:
			c := s.fetching
			s.mu.Unlock()
			if _, err := c.WaitDetached(ctx); err != nil && !errors.Is(err, errGone) {
				return state{}, err
			}
		case needCSRF && s.csrf == "":
			c := sharedcall.New[string]()
			s.fetching = c
			st := state{gen: s.gen, jar: s.jar}
			s.mu.Unlock()
			fetch := func(ctx context.Context) (string, error) { return s.fetchCSRF(ctx, st) }
			go c.Run(detached(ctx, s, fetch), func(csrf string, err error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.fetching = nil
				switch {
				case err == nil && s.gen == st.gen:
					s.csrf = csrf
				case errors.Is(err, errGone) && s.gen == st.gen:
					s.live = false
				}
			})
			if _, err := c.WaitDetached(ctx); err != nil && !errors.Is(err, errGone) {
				return state{}, err
			}
		default:
			st := state{gen: s.gen, jar: s.jar, csrf: s.csrf}
			s.mu.Unlock()
			return st, nil
		}
	}
}

// detached returns fn bound to a context that keeps ctx's values but not
// its cancellation, and ends after the login timeout: a shared call must
// not die with the caller that happened to start it, nor hang for ever.
func detached[T any](ctx context.Context, s *Cloud, fn func(context.Context) (T, error)) func() (T, error) {
	return func() (v T, err error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.loginTimeout)
		defer cancel()
		defer func() {
			// It runs in a goroutine of its own, where a panic (in a token
			// source, say) would end the process: make it the callers' error.
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: panic while logging in to %s: %v", ErrSession, s.tenant.Host, p)
			}
		}()
		return fn(ctx)
	}
}

// mayLogIn returns a *BackoffError when no login may be sent now: the
// session is backing off, or the tenant's budget is spent. Called with s.mu
// held; it spends a token of the budget when a login may go.
func (s *Cloud) mayLogIn() error {
	now := s.now()
	if now.Before(s.notBefore) {
		return &BackoffError{Until: s.notBefore, Err: s.lastErr}
	}
	if s.budget != nil {
		if ok, next := s.budget.take(now); !ok {
			return &BackoffError{Until: next, Err: ErrLoginBudget}
		}
	}
	return nil
}

// loggedIn records the outcome of a login.
func (s *Cloud) loggedIn(jar http.CookieJar, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loggingIn = nil
	switch {
	case err == nil:
		s.gen++
		s.live, s.jar, s.csrf = true, jar, ""
		s.fails, s.notBefore, s.lastErr = 0, time.Time{}, nil
		s.stats.logins.Add(1)
	case errors.As(err, new(notSent)):
		// No request reached the tenant (no token): nothing to back off from.
	default:
		s.fails++
		s.notBefore, s.lastErr = s.now().Add(backoff(err, s.fails)), err
		s.stats.refusals.Add(1)
	}
}

// notSent marks a login that sent no request.
type notSent struct{ error }

func (e notSent) Unwrap() error { return e.error }

// login exchanges a new token for a session and returns its cookies.
func (s *Cloud) login(ctx context.Context) (http.CookieJar, error) {
	tok, err := s.src.Token(ctx)
	if err != nil {
		return nil, notSent{fmt.Errorf("%w: getting a token to log in to %s: %w", ErrSession, s.tenant.Host, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tenant.JoinPath("/login/jwt-session").String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
	s.stats.attempts.Add(1)
	resp, err := s.transport().RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("%w: logging in to %s: %w", ErrSession, s.tenant.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, readQlikError("login", resp)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	jar, _ := cookiejar.New(nil) // never fails without options
	set := resp.Cookies()
	jar.SetCookies(s.tenant, set)
	if len(jar.Cookies(s.tenant)) == 0 {
		cause := "it set no cookie: something between here and the tenant (a proxy, a gateway) may strip Set-Cookie"
		if len(set) > 0 {
			cause = fmt.Sprintf("the cookie jar refused the %d cookie(s) it set: a Secure cookie over http, or a Domain or Path that is not the tenant's", len(set))
		}
		return nil, fmt.Errorf("%w: POST %s answered %d but %s", ErrNoSessionCookie, req.URL, resp.StatusCode, cause)
	}
	return jar, nil
}

// fetchCSRF reads the CSRF token of the session st.
func (s *Cloud) fetchCSRF(ctx context.Context, st state) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.tenant.JoinPath("/api/v1/csrf-token").String(), nil)
	if err != nil {
		return "", err
	}
	addCookies(req, st.jar.Cookies(s.tenant))
	s.stats.csrfFetches.Add(1)
	resp, err := s.transport().RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("%w: fetching the CSRF token from %s: %w", ErrSession, s.tenant.Host, err)
	}
	st.jar.SetCookies(s.tenant, resp.Cookies())
	if resp.StatusCode == http.StatusUnauthorized {
		return "", fmt.Errorf("%w: %w", errGone, readQlikError("csrf-token", resp))
	}
	if resp.StatusCode/100 != 2 {
		return "", readQlikError("csrf-token", resp)
	}
	resp.Body.Close()
	tok := resp.Header.Get("qlik-csrf-token")
	if tok == "" {
		return "", &QlikError{Op: "csrf-token", Method: req.Method, URL: req.URL.String(), StatusCode: resp.StatusCode,
			Detail: "the answer had no qlik-csrf-token header"}
	}
	return tok, nil
}

// errGone marks a CSRF fetch that found the session gone: the caller logs
// in again.
var errGone = errors.New("session: the session has ended")

// gone records that the session of login gen has ended.
func (s *Cloud) gone(gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen {
		s.live = false
	}
}

// staleCSRF records that csrf, the token of login gen, is stale.
func (s *Cloud) staleCSRF(gen int, csrf string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen && s.csrf == csrf {
		s.csrf = ""
	}
}

// needsCSRF reports whether a request with this method needs the
// qlik-csrf-token header.
func needsCSRF(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// RoundTrip sends req in the session, as described on [Cloud]. It returns an
// error (a [*QlikError] when Qlik refused, a [*BackoffError] while backing
// off) when logging in or fetching the CSRF token fails, and otherwise the
// tenant's response, which may still be an error status: see
// [CheckResponse].
func (s *Cloud) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameOrigin(req.URL, s.tenant) {
		return s.transport().RoundTrip(req)
	}
	bodyOwned := req.Body != nil // we must close it until the base transport has it
	defer func() {
		if bodyOwned {
			req.Body.Close()
		}
	}()
	ctx := req.Context()
	csrfNeeded := needsCSRF(req.Method)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	relogged, refreshed := false, false
	for attempt := 0; ; attempt++ {
		st, err := s.ensure(ctx, csrfNeeded)
		if err != nil {
			return nil, err
		}
		r2 := req.Clone(ctx)
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			if r2.Body, err = req.GetBody(); err != nil {
				return nil, fmt.Errorf("%w: reading the request body again to retry: %w", ErrSession, err)
			}
		}
		addCookies(r2, st.jar.Cookies(s.tenant))
		if csrfNeeded {
			r2.Header.Set("qlik-csrf-token", st.csrf)
		}
		bodyOwned = false
		resp, err := s.transport().RoundTrip(r2)
		if err != nil {
			return nil, err
		}
		st.jar.SetCookies(s.tenant, resp.Cookies())
		if resp.StatusCode == http.StatusUnauthorized {
			s.gone(st.gen)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !relogged:
			if !replayable {
				return resp, nil
			}
			relogged = true
		case resp.StatusCode == http.StatusForbidden && csrfNeeded && !refreshed && qlikCode(resp) == "CSRF-TOKEN-2":
			s.staleCSRF(st.gen, st.csrf)
			if !replayable {
				return resp, nil
			}
			refreshed = true
		default:
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}
}

var _ http.RoundTripper = (*Cloud)(nil)
