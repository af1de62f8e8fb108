package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// Proxy is an [http.Handler] that lets a web site's pages use Qlik without
// any Qlik cookie in the browser: the browser calls the site only, and the
// proxy makes each call to Qlik in that user's session, which it keeps on
// the server (one [Cloud] or [QSEoWTransport] per user: the JWT login, the
// cookies, the CSRF token, a new login when Qlik ends the session). It
// works where browsers block third-party cookies (Safari, Brave, private
// windows, Chrome with third-party cookies blocked), which a page that logs
// in to a tenant on another site directly does not.
//
// Mount it under a path of the site with [http.StripPrefix]; the rest of
// the path is Qlik's, e.g. /qlik/api/v1/users/me goes to
// <tenant>/api/v1/users/me and /qlik/app/<appId> opens the engine
// WebSocket (for QSEoW, under the virtual proxy's prefix).
//
// Who the user is comes from the site, never from the request's say-so: the
// function given to the constructor reads the site's own session (its
// cookie, its SSO). For each request the proxy
//
//   - forwards only what the allow-list admits (method and path,
//     [WithAllowedPaths]; else 404), with a body of at most
//     [WithMaxRequestBody] (else 413) and a path and query of at most
//     [DefaultMaxRequestURL] bytes (else 414);
//   - refuses, before asking who the user is, a request that acts for the
//     user (any method but GET and HEAD, and the WebSocket) from a page of
//     another origin ([WithAllowedOrigins]), and any request a browser
//     marks cross-site: the site's cookie alone must not make Qlik calls
//     for a foreign page;
//   - sends Qlik only the request headers a Qlik API reads (Accept,
//     Content-Type, conditional and range headers, and the WebSocket
//     handshake): never the browser's cookies, Authorization, Origin or
//     Referer; Qlik's session cookies and CSRF token are added by the
//     user's session;
//   - returns Qlik's answer as it streams in, without Set-Cookie, Qlik's
//     CSRF token or CORS headers; for the engine WebSocket (a GET with
//     Upgrade: websocket) it adds the session's CSRF token
//     (?qlik-csrf-token=) and cookies to the handshake, logs in again once
//     when Qlik answers 401 or 403 CSRF-TOKEN-2, and then passes the frames
//     both ways.
//
// Errors that are the proxy's own (not signed in to the site, a refused or
// backed-off login, Qlik unreachable) are answered with a JSON body
// {"error": "...", "check": "..."} that a page can show; Qlik's own
// answers (403, 404, 429 with Retry-After) pass through. A login refused by
// Qlik or the tenant's login budget makes 502 or 503 with Retry-After, and
// the user's session backs off ([Cloud]).
//
// Sessions unused for [WithIdleTimeout] are dropped, and at most
// [WithMaxUsers] are kept: memory stays bounded whatever the number of
// users. Dropping a session does not log out of Qlik; [Proxy.Drop] drops one
// at once (call it when the user signs out of the site). A Proxy is safe for
// concurrent use.
type Proxy struct {
	cfg   proxyConfig
	base  *url.URL
	what  string                                                    // "Qlik Cloud tenant", "QSEoW virtual proxy"
	who   func(*http.Request) (key, fp string, user any, err error) // the site's user; fp tells a changed user
	open  func(user any) (upstream, error)                          // a new session for that user
	allow *http.ServeMux                                            // the allow-list
	users *userTable                                                // the sessions, by user
	rest  *httputil.ReverseProxy                                    // REST calls
	ws    *httputil.ReverseProxy                                    // WebSocket handshakes
	mark  *allowed                                                  // what allow gives an allowed request
}

// allowed marks the requests on the allow-list; http.ServeMux gives other
// handlers for the others (not found, redirects to a cleaned path).
type allowed struct{}

func (*allowed) ServeHTTP(http.ResponseWriter, *http.Request) {}

// upstream is one user's session with Qlik, as the proxy uses it.
type upstream interface {
	http.RoundTripper
	// upgrade sends a WebSocket handshake in the session, adding its CSRF
	// token and cookies, and logging in again once when refused.
	upgrade(out *http.Request) (*http.Response, error)
}

// NewCloudProxy returns a [Proxy] to the Qlik Cloud tenant at tenantURL
// (e.g. "https://example.eu.qlikcloud.com") whose users log in with tokens
// from tokens, the builder of the tenant's JWT identity provider. user
// returns the site's signed-in user for a request, or an error when there
// is none (answered 401); the user's Subject keys the session, and a
// changed name, e-mail or groups opens a new one. The sessions share one
// [LoginBudget] of [DefaultLoginsPerMinute] logins a minute unless
// [WithCloudSessionOptions] gives another.
func NewCloudProxy(tenantURL string, tokens *qsjwt.Cloud, user func(*http.Request) (qsjwt.CloudUser, error), opts ...ProxyOption) (*Proxy, error) {
	base, err := parseBase(tenantURL, "tenant", "https://example.eu.qlikcloud.com", false)
	if err != nil {
		return nil, err
	}
	if tokens == nil || user == nil {
		return nil, fmt.Errorf("%w: NewCloudProxy needs the token builder (qsjwt.NewCloud) and the function that returns the site's user", ErrSession)
	}
	p, err := newProxy(base, "Qlik Cloud tenant", DefaultCloudPaths, opts)
	if err != nil {
		return nil, err
	}
	if len(p.cfg.qseowOpts) > 0 {
		return nil, fmt.Errorf("%w: WithQSEoWSessionOptions given to NewCloudProxy; give Cloud session options with WithCloudSessionOptions", ErrSession)
	}
	budget, _ := NewLoginBudget(DefaultLoginsPerMinute, time.Minute) // valid constants
	sessionOpts := append([]CloudOption{WithBaseTransport(p.cfg.base), WithClock(p.cfg.now), WithLoginTimeout(p.cfg.loginTimeout), WithLoginBudget(budget)}, p.cfg.cloudOpts...)
	p.who = func(r *http.Request) (string, string, any, error) {
		u, err := user(r)
		if err != nil {
			return "", "", nil, err
		}
		if u.Subject == "" {
			return "", "", nil, errors.New("the site's user has no Qlik subject")
		}
		return u.Subject, fmt.Sprintf("%q", []any{u.Name, u.Email, u.EmailVerified, u.Groups}), u, nil
	}
	p.open = func(user any) (upstream, error) {
		u := user.(qsjwt.CloudUser)
		s, err := NewCloud(base.String(), tokens.TokenSource(u), sessionOpts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return p, nil
}

// NewQSEoWProxy returns a [Proxy] to the QSEoW virtual proxy at proxyURL
// (the server and the prefix, e.g. "https://qlik.example.com/jwt") whose
// users sign in with tokens from tokens, the builder of the virtual proxy's
// JWT settings. user returns the site's signed-in user for a request, or an
// error when there is none (answered 401); DIRECTORY\userId keys the
// session, and other changed fields open a new one.
func NewQSEoWProxy(proxyURL string, tokens *qsjwt.QSEoW, user func(*http.Request) (qsjwt.QSEoWUser, error), opts ...ProxyOption) (*Proxy, error) {
	base, err := parseBase(proxyURL, "virtual proxy", "https://qlik.example.com/jwt", true)
	if err != nil {
		return nil, err
	}
	if tokens == nil || user == nil {
		return nil, fmt.Errorf("%w: NewQSEoWProxy needs the token builder (qsjwt.NewQSEoW) and the function that returns the site's user", ErrSession)
	}
	p, err := newProxy(base, "QSEoW virtual proxy", DefaultQSEoWPaths, opts)
	if err != nil {
		return nil, err
	}
	if len(p.cfg.cloudOpts) > 0 {
		return nil, fmt.Errorf("%w: WithCloudSessionOptions given to NewQSEoWProxy; give QSEoW options with WithQSEoWSessionOptions", ErrSession)
	}
	sessionOpts := append([]QSEoWOption{WithBaseTransport(p.cfg.base), WithClock(p.cfg.now), WithLoginTimeout(p.cfg.loginTimeout)}, p.cfg.qseowOpts...)
	p.who = func(r *http.Request) (string, string, any, error) {
		u, err := user(r)
		if err != nil {
			return "", "", nil, err
		}
		if u.UserDirectory == "" || u.UserID == "" {
			return "", "", nil, errors.New("the site's user has no QSEoW user directory or user ID")
		}
		return u.UserDirectory + `\` + u.UserID, fmt.Sprintf("%#v", []any{u.Name, u.Email, u.Groups, u.Attributes}), u, nil
	}
	p.open = func(user any) (upstream, error) {
		u := user.(qsjwt.QSEoWUser)
		t, err := NewQSEoWTransport(base.String(), tokens.TokenSource(u), sessionOpts...)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	return p, nil
}

type upstreamKey struct{}

func newProxy(base *url.URL, what string, paths []string, opts []ProxyOption) (*Proxy, error) {
	cfg := proxyConfig{common: defaults(), maxBody: DefaultMaxRequestBody, maxURL: DefaultMaxRequestURL, idle: DefaultIdleTimeout, maxUsers: DefaultMaxUsers}
	var errs []error
	for _, o := range opts {
		if o != nil {
			errs = append(errs, o.applyProxy(&cfg))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.paths == nil {
		cfg.paths = paths
	}
	p := &Proxy{cfg: cfg, base: base, what: what, allow: http.NewServeMux(), mark: &allowed{}}
	for _, pat := range cfg.paths {
		p.allow.Handle(pat, p.mark)
	}
	p.users = newUserTable(cfg.idle, cfg.maxUsers, cfg.now)
	p.rest = &httputil.ReverseProxy{Rewrite: p.rewrite, Transport: sendFunc(p.send), ModifyResponse: filterResponse,
		ErrorHandler: p.failed, FlushInterval: -1}
	p.ws = &httputil.ReverseProxy{Rewrite: p.rewrite, Transport: sendFunc(p.sendUpgrade), ModifyResponse: filterResponse,
		ErrorHandler: p.failed, FlushInterval: -1}
	return p, nil
}

// Users returns how many users' sessions the proxy holds.
func (p *Proxy) Users() int { return p.users.len() }

// Drop forgets the session of r's user (as the site's user function sees
// r), so that their next request logs in anew. Call it when the user signs
// out of the site, before the site's own session ends.
func (p *Proxy) Drop(r *http.Request) error {
	key, _, _, err := p.who(r)
	if err != nil {
		return err
	}
	p.users.drop(key)
	return nil
}

// ServeHTTP forwards r to Qlik in its user's session, as described on
// [Proxy].
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	upgrade := isWebSocket(r)
	if h, _ := p.allow.Handler(r); h != http.Handler(p.mark) || r.URL.RawPath != "" || strings.Contains(r.URL.Path, "/../") {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("%s %s is not a request this site forwards to Qlik", r.Method, r.URL.Path),
			"the site's proxy forwards only the requests on its allow-list (session.WithAllowedPaths)")
		return
	}
	if len(r.URL.Path)+len(r.URL.RawQuery) > p.cfg.maxURL {
		writeProblem(w, http.StatusRequestURITooLong, fmt.Sprintf("the path and query are over %d bytes", p.cfg.maxURL), "shorten the query")
		return
	}
	if r.ContentLength > p.cfg.maxBody {
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", p.cfg.maxBody), "session.WithMaxRequestBody sets the limit")
		return
	}
	if acts := upgrade || r.Method != http.MethodGet && r.Method != http.MethodHead; acts || crossSite(r) {
		err := checkSameOrigin(r, p.cfg.origins)
		if crossSite(r) {
			err = errors.New("the browser marked the request as made by another site (Sec-Fetch-Site: cross-site)")
		}
		if err != nil {
			writeProblem(w, http.StatusForbidden, "refused: "+err.Error(), "only the site's own pages may call Qlik through it")
			return
		}
	}
	key, fp, u, err := p.who(r)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, "not signed in to the site: "+err.Error(), "sign in to the site first; the site, not the page, says who the Qlik user is")
		return
	}
	up, err := p.users.get(key, fp, func() (upstream, error) { return p.open(u) })
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "cannot make the user's Qlik session: "+err.Error(), "the site's Qlik settings")
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), upstreamKey{}, up)) // a copy: the body below is ours
	if r.Body != nil && r.Body != http.NoBody {
		// Held in memory (bounded), so that the session can send it again
		// after a new login or CSRF token.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.maxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", p.cfg.maxBody), "session.WithMaxRequestBody sets the limit")
			return
		case err != nil:
			writeProblem(w, http.StatusBadRequest, "reading the request body: "+err.Error(), "the network between the browser and the site")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	if upgrade {
		p.ws.ServeHTTP(w, r)
		return
	}
	p.rest.ServeHTTP(w, r)
}

// forwardedHeaders are the request headers Qlik is sent.
var forwardedHeaders = []string{
	"Accept", "Accept-Language", "Content-Type", "Cache-Control",
	"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range",
	"Connection", "Upgrade", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// returnedHeaders are the response headers the browser is given.
var returnedHeaders = []string{
	"Content-Type", "Content-Length", "Content-Disposition", "Content-Language", "Content-Range", "Accept-Ranges",
	"Cache-Control", "Expires", "Etag", "Last-Modified", "Retry-After", "Vary", "Date",
	"Connection", "Upgrade", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// rewrite aims the outgoing request at Qlik with only the headers Qlik
// reads.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	u := *p.base
	u.Path = strings.TrimSuffix(p.base.Path, "/") + pr.In.URL.Path
	u.RawPath, u.RawQuery = "", pr.In.URL.RawQuery
	pr.Out.URL, pr.Out.Host = &u, ""
	keep := http.Header{}
	for _, h := range forwardedHeaders {
		if v := pr.Out.Header.Values(h); len(v) > 0 {
			keep[h] = v
		}
	}
	keep.Set("User-Agent", "qsjwt-session-proxy")
	pr.Out.Header = keep
	pr.Out.GetBody = pr.In.GetBody
}

// filterResponse keeps only the headers a page may see.
func filterResponse(resp *http.Response) error {
	keep := http.Header{}
	for _, h := range returnedHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			keep[h] = v
		}
	}
	resp.Header = keep
	return nil
}

type sendFunc func(*http.Request) (*http.Response, error)

func (f sendFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (p *Proxy) send(r *http.Request) (*http.Response, error) {
	return r.Context().Value(upstreamKey{}).(upstream).RoundTrip(r)
}

func (p *Proxy) sendUpgrade(r *http.Request) (*http.Response, error) {
	return r.Context().Value(upstreamKey{}).(upstream).upgrade(r)
}

// failed answers a request the proxy could not complete.
func (p *Proxy) failed(w http.ResponseWriter, r *http.Request, err error) {
	var be *BackoffError
	var qe *QlikError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The browser left.
	case errors.As(err, &mbe):
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", mbe.Limit), "session.WithMaxRequestBody sets the limit")
	case errors.As(err, &be):
		if d := be.Until.Sub(p.cfg.now()); d > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(d.Seconds())+1))
		}
		writeProblem(w, http.StatusServiceUnavailable, "Qlik login paused: "+err.Error(), loginCheck(p.what))
	case errors.As(err, &qe) && (qe.StatusCode == http.StatusTooManyRequests || qe.StatusCode == http.StatusServiceUnavailable):
		if qe.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(qe.RetryAfter.Seconds())))
		}
		writeProblem(w, http.StatusServiceUnavailable, fmt.Sprintf("the %s asks to wait before the next login: %v", p.what, err), loginCheck(p.what))
	case errors.As(err, &qe):
		writeProblem(w, http.StatusBadGateway, fmt.Sprintf("the %s refused the login: %v", p.what, err), loginCheck(p.what))
	default:
		writeProblem(w, http.StatusBadGateway, fmt.Sprintf("could not reach the %s at %s: %v", p.what, p.base.Host, err),
			"that the site's server reaches Qlik (DNS, firewall) and trusts its certificate")
	}
}

func loginCheck(what string) string {
	if strings.HasPrefix(what, "QSEoW") {
		return "the virtual proxy's JWT settings: its certificate matches the site's key, and the user ID and directory claim names"
	}
	return "the tenant's JWT identity provider: issuer, key ID and certificate match the site's key, and the tenant's login limit"
}

// isWebSocket reports whether r asks to become a WebSocket.
func isWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
