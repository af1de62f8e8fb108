package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"

	"github.com/qsjwt/qsjwt"
)

// Cloud is one user's session with a Qlik Cloud tenant, made from
// tokens. It logs in once (POST /login/jwt-session with a token from its
// source), keeps every cookie the tenant sets, and fetches the CSRF token
// (GET /api/v1/csrf-token) when a call needs it.
//
// As an [http.RoundTripper] (see also [Cloud.Client]) it sends the
// session cookies with each request to the tenant and the header
// qlik-csrf-token with each request whose method is not GET, HEAD or
// OPTIONS. When the tenant answers 403 with code CSRF-TOKEN-2 it fetches the
// CSRF token again and retries once; when it answers 401 (the session is
// gone) it logs in again with a new token and retries once. A request whose
// body cannot be sent again (no GetBody; http.NewRequest sets it for the
// usual body types) is not retried: its 401 or 403 response is returned,
// and the next request uses the renewed session. Requests to other hosts
// pass through to the base transport untouched: no cookie, token or CSRF
// header leaves the tenant. A refused login is not remembered: the next call
// tries again, with a new token.
//
// A Cloud is safe for concurrent use. However many goroutines use it,
// it runs one login at a time and one CSRF fetch at a time: callers that
// need a session while a login is in flight wait for that login and share
// its outcome, so a burst of calls makes one login, not one per call (Qlik
// Cloud allows 100 logins per minute per tenant). Keep one Cloud per
// user for as long as the user works. It never changes the caller's request.
type Cloud struct {
	tenant *url.URL
	src    qsjwt.TokenSource
	base   http.RoundTripper

	mu        sync.Mutex
	gen       int            // counts logins; requests remember the one they used
	live      bool           // logged in and not known to be gone
	jar       http.CookieJar // the cookies of login gen
	csrf      string         // the CSRF token of login gen, "" until fetched
	loggingIn *call[int]
	fetching  *call[string]
}

// CloudOption configures [NewCloud].
type CloudOption interface {
	applyCloud(*Cloud)
}

// baseTransportOption is WithBaseTransport; a struct, so that it prints and
// compares.
type baseTransportOption struct{ rt http.RoundTripper }

func (o baseTransportOption) applyCloud(s *Cloud) { s.base = o.rt }
func (o baseTransportOption) String() string      { return fmt.Sprintf("WithBaseTransport(%T)", o.rt) }

// WithBaseTransport sets the transport that sends the session's requests,
// including its logins and CSRF fetches; nil means http.DefaultTransport.
func WithBaseTransport(rt http.RoundTripper) CloudOption { return baseTransportOption{rt} }

// ErrSession is what session errors that are not Qlik's answers wrap: a bad
// tenant URL, a missing token source, a token that could not be had.
var ErrSession = errors.New("qsjwt: session")

// NewCloud returns a session with the tenant at tenantURL (e.g.
// "https://example.eu.qlikcloud.com") for the user whose tokens src gives.
// src must give a new token on each call, such as [qsjwt.Cloud.TokenSource]: each
// login exchanges one token, and Qlik refuses a reused jti. Nothing is sent
// until the first request or [Cloud.Login].
func NewCloud(tenantURL string, src qsjwt.TokenSource, opts ...CloudOption) (*Cloud, error) {
	u, err := url.Parse(strings.TrimSuffix(tenantURL, "/"))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: tenant URL %q: %w", ErrSession, tenantURL, err)
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		return nil, fmt.Errorf("%w: tenant URL %q: give the tenant's base URL, such as https://example.eu.qlikcloud.com", ErrSession, tenantURL)
	case u.Path != "" || u.RawQuery != "" || u.User != nil:
		return nil, fmt.Errorf("%w: tenant URL %q: give the tenant's base URL only, with no path, query or user", ErrSession, tenantURL)
	case src == nil:
		return nil, fmt.Errorf("%w: the token source is nil; give cloud.TokenSource(user)", ErrSession)
	}
	s := &Cloud{tenant: u, src: src}
	for _, o := range opts {
		if o != nil {
			o.applyCloud(s)
		}
	}
	return s, nil
}

// Tenant returns the tenant's base URL, e.g. "https://example.eu.qlikcloud.com".
func (s *Cloud) Tenant() string { return s.tenant.String() }

// Client returns an HTTP client whose transport is s.
func (s *Cloud) Client() *http.Client { return &http.Client{Transport: s} }

func (s *Cloud) transport() http.RoundTripper {
	if s.base != nil {
		return s.base
	}
	return http.DefaultTransport
}

// Login logs in unless the session is live, and returns the error of the
// login: a [*QlikError] when Qlik refused it. Calling it is optional: the
// first request logs in.
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
// one fetch.
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
			if _, again, err := c.wait(ctx); err != nil && !again {
				return state{}, err
			}
		case !s.live:
			if logins++; logins > 2 {
				s.mu.Unlock()
				return state{}, fmt.Errorf("%w: the tenant ended the session right after each of two logins", ErrSession)
			}
			c := newCall[int]()
			s.loggingIn = c
			s.mu.Unlock()
			var jar http.CookieJar
			c.run(func() (int, error) {
				var err error
				jar, err = s.login(ctx)
				return 0, err
			}, func(_ int, err error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.loggingIn = nil
				if err == nil {
					s.gen++
					s.live, s.jar, s.csrf = true, jar, ""
				}
			})
			if c.err != nil {
				return state{}, c.err
			}
		case needCSRF && s.csrf == "" && s.fetching != nil:
			c := s.fetching
			s.mu.Unlock()
			if _, again, err := c.wait(ctx); err != nil && !again && !errors.Is(err, errGone) {
				return state{}, err
			}
		case needCSRF && s.csrf == "":
			c := newCall[string]()
			s.fetching = c
			st := state{gen: s.gen, jar: s.jar}
			s.mu.Unlock()
			c.run(func() (string, error) { return s.fetchCSRF(ctx, st) }, func(csrf string, err error) {
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
			if c.err != nil && !errors.Is(c.err, errGone) {
				return state{}, c.err
			}
		default:
			st := state{gen: s.gen, jar: s.jar, csrf: s.csrf}
			s.mu.Unlock()
			return st, nil
		}
	}
}

// login exchanges a new token for a session and returns its cookies.
func (s *Cloud) login(ctx context.Context) (http.CookieJar, error) {
	tok, err := s.src.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: getting a token to log in to %s: %w", ErrSession, s.tenant.Host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tenant.JoinPath("/login/jwt-session").String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
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
	jar.SetCookies(s.tenant, resp.Cookies())
	return jar, nil
}

// fetchCSRF reads the CSRF token of the session st.
func (s *Cloud) fetchCSRF(ctx context.Context, st state) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.tenant.JoinPath("/api/v1/csrf-token").String(), nil)
	if err != nil {
		return "", err
	}
	addCookies(req, st.jar.Cookies(s.tenant))
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
var errGone = errors.New("qsjwt: the session has ended")

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

// onTenant reports whether u addresses the tenant.
func (s *Cloud) onTenant(u *url.URL) bool {
	return u != nil && u.Scheme == s.tenant.Scheme && strings.EqualFold(u.Host, s.tenant.Host)
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

// RoundTrip sends req in the session, as described on [Cloud]. It
// returns an error (a [*QlikError] when Qlik refused) when logging in or
// fetching the CSRF token fails, and otherwise the tenant's response, which
// may still be an error status: see [CheckResponse].
func (s *Cloud) RoundTrip(req *http.Request) (*http.Response, error) {
	if !s.onTenant(req.URL) {
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

// addCookies adds cookies to req, except those it already carries.
func addCookies(req *http.Request, cookies []*http.Cookie) {
	for _, c := range cookies {
		if _, err := req.Cookie(c.Name); err == http.ErrNoCookie {
			req.AddCookie(c)
		}
	}
}

var _ http.RoundTripper = (*Cloud)(nil)
