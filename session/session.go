// Package session takes a user from qsjwt tokens to a working Qlik session
// and keeps it: [Cloud] logs in to a Qlik Cloud tenant (POST
// /login/jwt-session) and works in the session; [QSEoWTransport] calls a
// client-managed Qlik Sense server through a JWT virtual proxy. Both are
// http.RoundTrippers, safe for concurrent use, one per user, that keep a
// burst of calls to one login or one proxy session, send credentials only
// to their own Qlik origin, and back off when Qlik refuses.
//
// [OAuth] gets OAuth access tokens from a Qlik Cloud tenant instead: the
// client's own, or an impersonated user's, the client authenticated by its
// secret or a Private Key JWT (qsjwt.ClientAssertion); send them as
// Authorization: Bearer, with no cookie and no CSRF token.
//
// Qlik's error answers are [*QlikError]s ([CheckResponse] reads one from any
// response); a login not tried because of an earlier refusal or the tenant's
// [LoginBudget] is a [*BackoffError].
package session

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrSession is what session errors that are not Qlik's answers wrap: a bad
// URL or option, a missing token source, a token that could not be had, a
// login answer without a session cookie.
var ErrSession = errors.New("session")

// ErrNoSessionCookie is returned (wrapped, with the cause) when a login
// answer opened no session the client can keep: it set no cookie (something
// between here and Qlik strips Set-Cookie), or the cookie jar refused the
// cookies it set.
var ErrNoSessionCookie = fmt.Errorf("%w: the login answer set no session cookie", ErrSession)

// ErrBackoff is what a [*BackoffError] unwraps to (with its cause).
var ErrBackoff = errors.New("session: not logging in again yet")

// ErrLoginBudget is the cause of a [*BackoffError] when the tenant's
// [LoginBudget] is spent.
var ErrLoginBudget = errors.New("session: the tenant's login budget is spent")

// BackoffError is returned at once, with no request sent, to a call that
// needs a login while the session is backing off after a refused login, or
// while the tenant's [LoginBudget] is spent. errors.Is(err, ErrBackoff) is
// true, and errors.As reaches its cause (a [*QlikError], say).
type BackoffError struct {
	// Until is when the next login may be tried, by the session's clock.
	Until time.Time
	// Err is why: the refusal that started the back-off (a *QlikError, an
	// ErrNoSessionCookie, a network error), or ErrLoginBudget.
	Err error
}

func (e *BackoffError) Error() string {
	return fmt.Sprintf("session: no login before %s: %v", e.Until.UTC().Format(time.RFC3339), e.Err)
}

// Unwrap returns ErrBackoff and the cause.
func (e *BackoffError) Unwrap() []error { return []error{ErrBackoff, e.Err} }

// DefaultLoginTimeout is how long a login (or a CSRF token fetch, or, for a
// QSEoWTransport, the wait for the request that opens the session) may take
// unless [WithLoginTimeout] says otherwise.
const DefaultLoginTimeout = 10 * time.Second

// addCookies adds cookies to req, except those it already carries.
func addCookies(req *http.Request, cookies []*http.Cookie) {
	for _, c := range cookies {
		if _, err := req.Cookie(c.Name); err == http.ErrNoCookie {
			req.AddCookie(c)
		}
	}
}

// sameOrigin reports whether u has the origin (scheme, host, port) of base.
func sameOrigin(u, base *url.URL) bool {
	return u != nil && strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Hostname(), base.Hostname()) && port(u) == port(base)
}

// port returns u's port, or the default port of its scheme.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// parseBase parses the base URL of a tenant or virtual proxy.
func parseBase(raw, what, example string, pathOK bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s URL %q: %w", ErrSession, what, raw, err)
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		return nil, fmt.Errorf("%w: %s URL %q: give the %s's base URL, such as %s", ErrSession, what, raw, what, example)
	case !pathOK && u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%w: %s URL %q: give the %s's base URL only, such as %s, with no path, query or user", ErrSession, what, raw, what, example)
	}
	return u, nil
}
