package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/qsjwt/qsjwt"
)

// TokenRequestHeader is the header a page must send to a [TokenHandler]
// (any non-empty value). A foreign page cannot send it without the site's
// consent (CORS preflight), so together with the Origin check it keeps
// other sites from getting tokens for the site's users.
const TokenRequestHeader = "X-Qsjwt-Token-Request"

// Default rate of a [TokenHandler]: tokens per user per window.
const (
	DefaultTokensPerUser = 10
	DefaultTokenWindow   = time.Minute
)

// TokenHandler is an [http.Handler] that gives the site's signed-in user a
// fresh Qlik token, for Qlik's own JavaScript in the page: @qlik/api's
// windowscookie auth on QSEoW takes it from a getAccessToken function (and
// exchanges it at GET <prefix>/qlik-embed/main.js for the session cookie),
// and a page that logs in to Qlik Cloud itself sends it to POST
// <tenant>/login/jwt-session. The answer is
//
//	{"token": "<jwt>", "expiresAt": "2026-11-29T12:05:00Z"}
//
// with Cache-Control: no-store. In the page:
//
//	const getAccessToken = async () => (await (await fetch('/qlik-token',
//	  {method: 'POST', headers: {'X-Qsjwt-Token-Request': '1'}})).json()).token;
//
// Who the user is comes from the site (the
// function given to the constructor), never from the request. The handler
// answers only POST (else 405), only from the site's own pages (Origin, see
// [WithAllowedOrigins]; else 403) that send [TokenRequestHeader] (else
// 403), to a signed-in user (else 401), at most [WithTokenRate] tokens per
// user (else 429 with Retry-After). Refusals carry the JSON body
// {"error": …, "check": …}. Safe for concurrent use.
//
// A page that logs in to a tenant on another site needs the browser to
// keep the tenant's cookies, which browsers that block third-party cookies
// do not: prefer [Proxy] for Qlik Cloud.
type TokenHandler struct {
	cfg   tokenHandlerConfig
	user  func(r *http.Request) (key string, sign func(context.Context) (qsjwt.Token, error), err error)
	mu    sync.Mutex
	given map[string][]time.Time // per user, the times of the tokens in the window
	swept time.Time
}

// TokenHandlerOption configures [NewCloudTokenHandler] and
// [NewQSEoWTokenHandler]: [WithAllowedOrigins], [WithTokenRate], and
// [WithClock] (the other [Option]s change nothing here).
type TokenHandlerOption interface {
	applyToken(*tokenHandlerConfig) error
}

type tokenHandlerConfig struct {
	common
	origins []string
	rate    int
	window  time.Duration
}

func (o option) applyToken(c *tokenHandlerConfig) error { return o.fn(&c.common) }

type tokenOption struct {
	name string
	fn   func(*tokenHandlerConfig) error
}

func (o tokenOption) applyToken(c *tokenHandlerConfig) error { return o.fn(c) }
func (o tokenOption) String() string                         { return o.name }

// WithTokenRate sets how many tokens a user may get in any window of per;
// DefaultTokensPerUser per DefaultTokenWindow unless set.
func WithTokenRate(n int, per time.Duration) TokenHandlerOption {
	return tokenOption{fmt.Sprintf("WithTokenRate(%d, %s)", n, per), func(c *tokenHandlerConfig) error {
		if n <= 0 || per <= 0 {
			return fmt.Errorf("%w: WithTokenRate(%d, %s): give a positive number of tokens and window, such as WithTokenRate(%d, time.Minute)", ErrSession, n, per, DefaultTokensPerUser)
		}
		c.rate, c.window = n, per
		return nil
	}}
}

// NewCloudTokenHandler returns a [TokenHandler] that signs Qlik Cloud
// tokens with tokens for the user that user returns.
func NewCloudTokenHandler(tokens *qsjwt.Cloud, user func(*http.Request) (qsjwt.CloudUser, error), opts ...TokenHandlerOption) (*TokenHandler, error) {
	if tokens == nil || user == nil {
		return nil, fmt.Errorf("%w: NewCloudTokenHandler needs the token builder (qsjwt.NewCloud) and the function that returns the site's user", ErrSession)
	}
	return newTokenHandler(opts, func(r *http.Request) (string, func(context.Context) (qsjwt.Token, error), error) {
		u, err := user(r)
		if err != nil || u.Subject == "" {
			return "", nil, notSignedIn{err}
		}
		return u.Subject, func(ctx context.Context) (qsjwt.Token, error) { return tokens.Sign(ctx, u) }, nil
	})
}

// NewQSEoWTokenHandler returns a [TokenHandler] that signs QSEoW tokens
// with tokens for the user that user returns.
func NewQSEoWTokenHandler(tokens *qsjwt.QSEoW, user func(*http.Request) (qsjwt.QSEoWUser, error), opts ...TokenHandlerOption) (*TokenHandler, error) {
	if tokens == nil || user == nil {
		return nil, fmt.Errorf("%w: NewQSEoWTokenHandler needs the token builder (qsjwt.NewQSEoW) and the function that returns the site's user", ErrSession)
	}
	return newTokenHandler(opts, func(r *http.Request) (string, func(context.Context) (qsjwt.Token, error), error) {
		u, err := user(r)
		if err != nil || u.UserID == "" {
			return "", nil, notSignedIn{err}
		}
		return u.UserDirectory + `\` + u.UserID, func(ctx context.Context) (qsjwt.Token, error) { return tokens.Sign(ctx, u) }, nil
	})
}

type notSignedIn struct{ err error }

func (e notSignedIn) Error() string {
	if e.err == nil {
		return "the site's user has no Qlik user ID"
	}
	return e.err.Error()
}

func newTokenHandler(opts []TokenHandlerOption, user func(*http.Request) (string, func(context.Context) (qsjwt.Token, error), error)) (*TokenHandler, error) {
	cfg := tokenHandlerConfig{common: defaults(), rate: DefaultTokensPerUser, window: DefaultTokenWindow}
	var errs []error
	for _, o := range opts {
		if o != nil {
			errs = append(errs, o.applyToken(&cfg))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &TokenHandler{cfg: cfg, user: user, given: map[string][]time.Time{}}, nil
}

// ServeHTTP answers a token request as described on [TokenHandler].
func (h *TokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not served here", "ask for a token with POST")
		return
	}
	if err := checkSameOrigin(r, h.cfg.origins); err != nil {
		writeProblem(w, http.StatusForbidden, "refused: "+err.Error(), "only the site's own pages may ask for a token")
		return
	}
	if r.Header.Get(TokenRequestHeader) == "" {
		writeProblem(w, http.StatusForbidden, "refused: the request has no "+TokenRequestHeader+" header",
			"send the header "+TokenRequestHeader+": 1 with the POST (fetch(url, {method: 'POST', headers: {'"+TokenRequestHeader+"': '1'}}))")
		return
	}
	key, sign, err := h.user(r)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, "not signed in to the site: "+err.Error(), "sign in to the site first; the site, not the page, says who the Qlik user is")
		return
	}
	if wait := h.take(key); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf("more than %d tokens in %s for this user", h.cfg.rate, h.cfg.window),
			"keep the Qlik session instead of asking for a token per call")
		return
	}
	tok, err := sign(r.Context())
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "cannot sign a token: "+err.Error(), "the site's key and Qlik settings")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok.Raw, "expiresAt": tok.ExpiresAt.UTC().Format(time.RFC3339)})
}

// take counts a token for key, or returns how long until the user may have
// the next one.
func (h *TokenHandler) take(key string) time.Duration {
	now := h.cfg.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Sub(h.swept) >= h.cfg.window {
		h.swept = now
		for k, ts := range h.given {
			if now.Sub(ts[len(ts)-1]) >= h.cfg.window {
				delete(h.given, k)
			}
		}
	}
	ts := h.given[key]
	cut := 0
	for cut < len(ts) && now.Sub(ts[cut]) >= h.cfg.window {
		cut++
	}
	ts = ts[cut:]
	if len(ts) >= h.cfg.rate {
		h.given[key] = ts
		return ts[0].Add(h.cfg.window).Sub(now)
	}
	h.given[key] = append(ts, now)
	return 0
}
