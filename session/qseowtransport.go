package session

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/qsjwt/qsjwt"
)

// DefaultQSEoWSessionTimeout is QSEoW's default session inactivity timeout,
// which [QSEoWTransport] assumes unless told another.
const DefaultQSEoWSessionTimeout = 30 * time.Minute

// QSEoWTransport is an [http.RoundTripper] that calls a client-managed Qlik
// Sense server through a virtual proxy with JWT authentication, as one user.
// To each request it adds:
//
//   - Authorization: Bearer <token>, from Source;
//   - a fresh random 16-character xrfkey, as the query parameter xrfkey and
//     the header X-Qlik-Xrfkey (any xrfkey already in the query is replaced);
//   - the proxy's session cookie, once the proxy has set one.
//
// Reusing the session cookie keeps the user at one proxy session instead of
// one per call; QSEoW allows 5 per user. A request that finds no session, a
// session unused for SessionTimeout (which the proxy may have ended), or a
// session whose last request was refused (401, 403) or failed, is sent
// alone: concurrent requests to the same server wait for it and then use the
// session it confirmed or opened. So a burst of calls opens one session,
// also after a timeout. If the proxy ends a session sooner than
// SessionTimeout, requests in flight at that moment may each open one: set
// SessionTimeout to the virtual proxy's "Session inactivity timeout".
//
// Source should cache its tokens, as [qsjwt.QSEoW.TokenSource] does, so that the
// transport signs once per token lifetime rather than once per request.
// Time is read from Source's clock when this package made Source (the
// builder's [qsjwt.WithClock]), else from time.Now.
//
// Like oauth2.Transport, a QSEoWTransport never changes the caller's
// request: it sends a clone. Set its fields before first use and do not
// change or copy it afterwards. It is safe for concurrent use. Use one per
// user, for requests to the Qlik server only: it sends the user's token with
// every request.
type QSEoWTransport struct {
	// Source gives the Bearer tokens; required.
	Source qsjwt.TokenSource
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// SessionTimeout is the virtual proxy's session inactivity timeout; 0
	// means DefaultQSEoWSessionTimeout.
	SessionTimeout time.Duration

	// Clock reads the time that SessionTimeout is measured with; nil means
	// time.Now.
	Clock func() time.Time

	mu      sync.Mutex
	jar     http.CookieJar
	servers map[string]*proxySession // by scheme://host
}

// proxySession is what the transport knows of its session with one server.
type proxySession struct {
	until   time.Time       // the session is taken to be live until then
	opening *call[struct{}] // the request sent alone, while in flight
}

// ErrNoSource is returned when a transport has no token source.
var ErrNoSource = errors.New("qsjwt: QSEoWTransport's Source is nil")

func (t *QSEoWTransport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *QSEoWTransport) timeout() time.Duration {
	if t.SessionTimeout > 0 {
		return t.SessionTimeout
	}
	return DefaultQSEoWSessionTimeout
}

// cookies returns the transport's cookie jar, made on first use.
func (t *QSEoWTransport) cookies() http.CookieJar {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.jar == nil {
		t.jar, _ = cookiejar.New(nil) // never fails without options
		t.servers = map[string]*proxySession{}
	}
	return t.jar
}

// Cookies returns the cookies the transport would send to u: the proxy's
// session cookie once a request has opened the session. A web backend can
// hand it to the browser of the same user. The caller owns the slice.
func (t *QSEoWTransport) Cookies(u *url.URL) []*http.Cookie { return t.cookies().Cookies(u) }

// RoundTrip sends a clone of req with the token, an xrfkey and the session
// cookie, as described on [QSEoWTransport].
func (t *QSEoWTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	bodyOwned := req.Body != nil
	defer func() {
		if bodyOwned {
			req.Body.Close()
		}
	}()
	if t.Source == nil {
		return nil, ErrNoSource
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: getting a token for %s: %w", ErrSession, req.URL.Host, err)
	}
	jar := t.cookies()
	now := t.Clock
	if now == nil {
		now = time.Now
	}
	done, err := t.turn(req, now)
	if err != nil {
		return nil, err
	}
	live := false
	defer func() { done(live) }()

	r2 := req.Clone(ctx)
	key := xrfkey()
	if q := r2.URL.Query(); q.Has("xrfkey") {
		q.Set("xrfkey", key)
		r2.URL.RawQuery = q.Encode()
	} else if r2.URL.RawQuery == "" {
		r2.URL.RawQuery = "xrfkey=" + key
	} else {
		r2.URL.RawQuery += "&xrfkey=" + key
	}
	r2.Header.Set("X-Qlik-Xrfkey", key)
	r2.Header.Set("Authorization", "Bearer "+tok.Raw)
	addCookies(r2, jar.Cookies(req.URL))

	bodyOwned = false
	resp, err := t.base().RoundTrip(r2)
	if err != nil {
		return nil, err
	}
	jar.SetCookies(req.URL, resp.Cookies())
	live = resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden && resp.StatusCode < 500
	return resp, nil
}

// turn waits until req may be sent: at once while the session with its
// server is taken to be live, else after the request sent alone returns, or
// alone. done records the outcome: live reports that the proxy accepted the
// request, which renews its inactivity timer; otherwise the next request
// goes alone.
func (t *QSEoWTransport) turn(req *http.Request, now func() time.Time) (done func(live bool), err error) {
	server := req.URL.Scheme + "://" + strings.ToLower(req.URL.Host)
	renew := func(live bool) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if live {
			t.servers[server].until = now().Add(t.timeout())
		} else {
			t.servers[server].until = time.Time{}
		}
	}
	for {
		t.mu.Lock()
		ps := t.servers[server]
		if ps == nil {
			ps = &proxySession{}
			t.servers[server] = ps
		}
		switch {
		case ps.opening != nil:
			c := ps.opening
			t.mu.Unlock()
			if _, _, err := c.wait(req.Context()); err != nil {
				return nil, err
			}
		case now().Before(ps.until):
			t.mu.Unlock()
			return renew, nil
		default:
			c := newCall[struct{}]()
			ps.opening = c
			t.mu.Unlock()
			return func(live bool) {
				renew(live)
				t.mu.Lock()
				ps.opening = nil
				t.mu.Unlock()
				close(c.done)
			}, nil
		}
	}
}

// xrfkey returns 16 random characters from [A-Z2-7].
func xrfkey() string { return rand.Text()[:16] }

var _ http.RoundTripper = (*QSEoWTransport)(nil)
