package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qsjwt/qsjwt"
)

// DefaultQSEoWSessionTimeout is QSEoW's default session inactivity timeout,
// which [QSEoWTransport] assumes unless told another ([WithSessionTimeout]).
const DefaultQSEoWSessionTimeout = 30 * time.Minute

// refreshBefore is how long before its expiry a token is replaced.
const refreshBefore = time.Minute

// QSEoWTransport is an [http.RoundTripper] that calls a client-managed Qlik
// Sense server through a virtual proxy with JWT authentication, as one user.
// To each request for the proxy's origin (scheme, host and port) it adds
//
//   - a fresh random 16-character xrfkey, as the query parameter xrfkey and
//     the header X-Qlik-Xrfkey (any xrfkey already in the query is replaced);
//   - the proxy's session cookie, once the proxy has set one;
//   - Authorization: Bearer <token>, when the request opens the session.
//
// Requests to any other origin, such as a redirect's target, pass through
// to the base transport untouched: the token, the cookie and the xrfkey
// never leave the proxy.
//
// Reusing the session cookie keeps the user at one proxy session instead of
// one per call; QSEoW allows 5 per user. While the transport holds a live
// session, requests carry only its cookie. The first request, the first
// after SessionTimeout without use, and the first after the session failed
// (a 401, a 403, a 429 or a 5xx) go alone, with the token: concurrent
// requests wait for it, and only an answer that set the session cookie (or
// confirmed the one sent) lets them go together; otherwise the next request
// goes alone again; after a 429 or 503 with Retry-After, no request goes
// alone before that time: until then such requests get a [*BackoffError]
// at once. A request that finds its session gone (401, or 403
// naming the session limit) is sent again once, alone, with the token, when
// its body can be sent again. So a burst of calls opens one session, also
// after a timeout or a server restart.
//
// The transport keeps the token src gave until a minute before it expires
// (by the transport's clock, [WithClock]) and asks src again when the proxy
// refuses it as expired or not yet valid (its clock is ahead or behind):
// give a src that signs on each call, so that such a refusal is followed by
// one request with a new token. A src that caches (qsjwt's
// QSEoW.TokenSource) works too, but then such a refusal is returned.
//
// A QSEoWTransport never changes the caller's request: it sends a clone. It
// is safe for concurrent use. Use one per user. It formats without its
// token or cookie.
type QSEoWTransport struct {
	proxy *url.URL // the virtual proxy: server and prefix
	src   qsjwt.TokenSource
	common
	sessionTimeout time.Duration

	jar http.CookieJar // only ever given the proxy's URL

	mu        sync.Mutex
	tok       qsjwt.Token   // the token last had from src
	refused   qsjwt.Token   // a token the proxy refused as expired or not yet valid
	until     time.Time     // the session is taken to be live until then
	gen       int           // counts session resets; outcomes of older requests do not renew
	opening   chan struct{} // closed when the request sent alone has its answer
	notBefore time.Time     // no request goes alone before then (Retry-After)
	lastErr   error         // the answer that set notBefore

	stats struct{ requests, alone, refusals, resigns, backedOff atomic.Int64 }
}

// QSEoWStats are a [QSEoWTransport]'s counts since it was made.
type QSEoWStats struct {
	// Requests counts requests sent to the proxy, retries included; Alone
	// those sent alone with the token (to open or confirm the session).
	Requests, Alone int64
	// Refusals counts answers 401, 403 and 429; Resigns tokens dropped
	// because the proxy called them expired or not yet valid.
	Refusals, Resigns int64
	// BackedOff counts requests answered at once with a *BackoffError.
	BackedOff int64
}

// NewQSEoWTransport returns a transport to the virtual proxy at proxyURL
// (the server and the proxy's prefix, e.g. "https://qlik.example.com/jwt")
// for the user whose tokens src gives. Nothing is sent until the first
// request.
func NewQSEoWTransport(proxyURL string, src qsjwt.TokenSource, opts ...QSEoWOption) (*QSEoWTransport, error) {
	u, err := parseBase(proxyURL, "virtual proxy", "https://qlik.example.com/jwt", true)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("%w: the token source is nil; give a source of the user's tokens", ErrSession)
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	t := &QSEoWTransport{proxy: u, src: src, common: defaults(), sessionTimeout: DefaultQSEoWSessionTimeout, jar: jar}
	var errs []error
	for _, o := range opts {
		if o != nil {
			errs = append(errs, o.applyQSEoW(t))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Proxy returns the virtual proxy's URL, e.g. "https://qlik.example.com/jwt".
func (t *QSEoWTransport) Proxy() string { return t.proxy.String() }

// Client returns an HTTP client whose transport is t.
func (t *QSEoWTransport) Client() *http.Client { return &http.Client{Transport: t} }

// Cookies returns the proxy's session cookie once a request has opened the
// session. A web backend can hand it to the browser of the same user. The
// caller owns the slice.
func (t *QSEoWTransport) Cookies() []*http.Cookie { return t.jar.Cookies(t.proxy) }

// Stats returns the transport's counts.
func (t *QSEoWTransport) Stats() QSEoWStats {
	return QSEoWStats{Requests: t.stats.requests.Load(), Alone: t.stats.alone.Load(), Refusals: t.stats.refusals.Load(),
		Resigns: t.stats.resigns.Load(), BackedOff: t.stats.backedOff.Load()}
}

// Format prints the proxy's URL, never the token or the cookie, for every
// verb.
func (t *QSEoWTransport) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "session.QSEoWTransport{proxy: %s}", t.proxy)
}

// RoundTrip sends a clone of req with an xrfkey, the session cookie and,
// when it opens the session, the token, as described on [QSEoWTransport].
func (t *QSEoWTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameOrigin(req.URL, t.proxy) {
		return t.transport().RoundTrip(req)
	}
	bodyOwned := req.Body != nil
	defer func() {
		if bodyOwned {
			req.Body.Close()
		}
	}()
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resigned, retried := false, false
	for attempt := 0; ; attempt++ {
		alone, gen, done, err := t.turn(ctx)
		if err != nil {
			return nil, err
		}
		r2 := req.Clone(ctx)
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			if r2.Body, err = req.GetBody(); err != nil {
				done(gen, false)
				return nil, fmt.Errorf("%w: reading the request body again to retry: %w", ErrSession, err)
			}
		}
		setXrfkey(r2)
		held := t.jar.Cookies(t.proxy)
		addCookies(r2, held)
		var tok qsjwt.Token
		if alone {
			if tok, err = t.token(ctx); err != nil {
				done(gen, false)
				return nil, fmt.Errorf("%w: getting a token for %s: %w", ErrSession, t.proxy.Host, err)
			}
			r2.Header.Set("Authorization", "Bearer "+tok.Raw)
			t.stats.alone.Add(1)
		}
		bodyOwned = false
		t.stats.requests.Add(1)
		resp, err := t.transport().RoundTrip(r2)
		if err != nil {
			done(gen, false)
			return nil, err
		}
		set := resp.Cookies()
		t.jar.SetCookies(t.proxy, set)
		status := resp.StatusCode
		ok := status < 500 && status != http.StatusUnauthorized && status != http.StatusForbidden && status != http.StatusTooManyRequests
		if !ok && status < 500 {
			t.stats.refusals.Add(1)
		}
		if alone && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
			t.holdOff(resp)
		}
		// Alone, only a session cookie set (or one sent and accepted)
		// releases the requests waiting.
		done(gen, ok && (!alone || len(t.jar.Cookies(t.proxy)) > 0 && (len(set) > 0 || len(held) > 0)))
		switch {
		case alone && status == http.StatusUnauthorized && !resigned && t.dropIfTimeRefused(resp, tok):
			resigned = true
		case !alone && !retried && (status == http.StatusUnauthorized || status == http.StatusForbidden && isSessionLimit(resp)):
			retried = true
		default:
			return resp, nil
		}
		if !replayable {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}
}

// turn waits until a request may be sent: at once while the session is
// taken to be live, else alone (after the request sent alone returns, or
// after the login timeout if it does not). done records the outcome:
// live reports that the proxy accepted the request and the session is
// held, which renews the inactivity timer; otherwise the next request goes
// alone.
func (t *QSEoWTransport) turn(ctx context.Context) (alone bool, gen int, done func(gen int, live bool), err error) {
	for {
		t.mu.Lock()
		switch {
		case t.opening != nil:
			c := t.opening
			t.mu.Unlock()
			timer := time.NewTimer(t.loginTimeout)
			select {
			case <-c:
			case <-ctx.Done():
				timer.Stop()
				return false, 0, nil, ctx.Err()
			case <-timer.C:
				// The request sent alone hangs: let another go alone.
				t.mu.Lock()
				if t.opening == c {
					t.opening = nil
				}
				t.mu.Unlock()
			}
			timer.Stop()
		case t.now().Before(t.until) && len(t.jar.Cookies(t.proxy)) > 0:
			g := t.gen
			t.mu.Unlock()
			return false, g, t.outcome, nil
		case t.now().Before(t.notBefore):
			err := &BackoffError{Until: t.notBefore, Err: t.lastErr}
			t.mu.Unlock()
			t.stats.backedOff.Add(1)
			return false, 0, nil, err
		default:
			c := make(chan struct{})
			t.opening = c
			g := t.gen
			t.mu.Unlock()
			return true, g, func(gen int, live bool) {
				t.outcome(gen, live)
				t.mu.Lock()
				if t.opening == c {
					t.opening = nil
				}
				t.mu.Unlock()
				close(c)
			}, nil
		}
	}
}

// outcome records how a request of session generation gen fared.
func (t *QSEoWTransport) outcome(gen int, live bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case gen != t.gen:
		// An answer to a request of an earlier session says nothing of this one.
	case live:
		t.until = t.now().Add(t.sessionTimeout)
	default:
		t.until = time.Time{}
		t.gen++
	}
}

// holdOff records the Retry-After of resp, an answer 429 or 503 to a
// request sent alone: no request goes alone (opens a session) before then.
func (t *QSEoWTransport) holdOff(resp *http.Response) {
	e := qlikError("", resp, peek(resp))
	if e.RetryAfter <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notBefore, t.lastErr = t.now().Add(e.RetryAfter), e
}

// token returns a fresh token, from the cache or from src.
func (t *QSEoWTransport) token(ctx context.Context) (qsjwt.Token, error) {
	t.mu.Lock()
	tok := t.tok
	t.mu.Unlock()
	if t.fresh(tok) {
		return tok, nil
	}
	t.mu.Lock()
	refused := t.refused
	t.refused = qsjwt.Token{}
	t.mu.Unlock()
	var err error
	if r, ok := t.src.(renewer); ok && refused.Raw != "" {
		tok, err = r.Renew(ctx, refused) // a caching source would give the refused token again
	} else {
		tok, err = t.src.Token(ctx)
	}
	if err != nil {
		return tok, err
	}
	t.mu.Lock()
	t.tok = tok
	t.mu.Unlock()
	return tok, nil
}

// renewer is a caching token source that can drop a refused token: see
// qsjwt.TokenSource.
type renewer interface {
	Renew(ctx context.Context, refused qsjwt.Token) (qsjwt.Token, error)
}

// fresh reports whether tok can still be sent.
func (t *QSEoWTransport) fresh(tok qsjwt.Token) bool {
	if tok.Raw == "" {
		return false
	}
	if tok.ExpiresAt.IsZero() {
		return true
	}
	margin := refreshBefore
	if life := tok.ExpiresAt.Sub(tok.IssuedAt); !tok.IssuedAt.IsZero() && margin > life/2 {
		margin = life / 2
	}
	return t.now().Before(tok.ExpiresAt.Add(-margin))
}

// dropIfTimeRefused drops tok when resp, a 401, says the token has expired
// or is not yet valid (the proxy's clock differs from ours), and reports
// whether it did: the request is then worth one more try, with a new token.
func (t *QSEoWTransport) dropIfTimeRefused(resp *http.Response, tok qsjwt.Token) bool {
	e := qlikError("", resp, peek(resp))
	text := strings.ToLower(e.Title + " " + e.Detail)
	if e.Code != "QPS-JWT-3" && !strings.Contains(text, "expired") && !strings.Contains(text, "not valid") && !strings.Contains(text, "not yet valid") {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.Raw == tok.Raw {
		t.tok = qsjwt.Token{}
	}
	t.refused = tok
	t.stats.resigns.Add(1)
	return true
}

// isSessionLimit reports whether resp, a 403, refuses a new session because
// the user has as many as the proxy allows.
func isSessionLimit(resp *http.Response) bool {
	e := qlikError("", resp, peek(resp))
	text := strings.ToLower(e.Code + " " + e.Title + " " + e.Detail)
	return strings.Contains(text, "session-limit") || strings.Contains(text, "sessions are open") || strings.Contains(text, "maxparallelsessions")
}

// setXrfkey puts a fresh xrfkey in r's query and header.
func setXrfkey(r *http.Request) {
	key := rand.Text()[:16] // 16 characters from [A-Z2-7]
	if q := r.URL.Query(); q.Has("xrfkey") {
		q.Set("xrfkey", key)
		r.URL.RawQuery = q.Encode()
	} else if r.URL.RawQuery == "" {
		r.URL.RawQuery = "xrfkey=" + key
	} else {
		r.URL.RawQuery += "&xrfkey=" + key
	}
	r.Header.Set("X-Qlik-Xrfkey", key)
}

var _ http.RoundTripper = (*QSEoWTransport)(nil)
