package qsjwt

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/qsjwt/qsjwt/internal/sharedcall"
)

// TokenSource returns tokens for one user. It is how sessions and transports
// get tokens, in the spirit of golang.org/x/oauth2's TokenSource.
//
// Keep the source: [QSEoW.TokenSource] caches its token for the token's
// lifetime, so a new source made per request signs per request. Token must
// be safe for concurrent use by multiple goroutines. The returned Token
// belongs to the caller.
//
// A program that needs an oauth2.TokenSource (a bearer token for an
// oauth2.Transport) adapts one in a few lines, without qsjwt importing
// oauth2:
//
//	type oauth2Source struct{ src qsjwt.TokenSource }
//
//	func (s oauth2Source) Token() (*oauth2.Token, error) {
//		t, err := s.src.Token(context.Background())
//		if err != nil {
//			return nil, err
//		}
//		return &oauth2.Token{AccessToken: t.Raw, TokenType: "Bearer", Expiry: t.ExpiresAt}, nil
//	}
//
// Give it a caching source only (a QSEoW one): oauth2 sends the same token
// on every request, and a Qlik Cloud token is good for one login.
//
// A caching source ([QSEoW.TokenSource]) also has the method
//
//	Renew(ctx context.Context, refused Token) (Token, error)
//
// which drops refused from the cache, if it is still there, and signs a new
// token: for a client whose server refused a token as expired or not yet
// valid because the two clocks differ. The session package calls it when a
// QSEoW proxy does; a source of your own may offer it too.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc adapts a function to a [TokenSource], for tokens made
// elsewhere (another service, a test).
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token calls f(ctx).
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// refreshBefore is how long before its expiry a cached QSEoW token is
// replaced.
const refreshBefore = time.Minute

// TokenSource returns a source of QSEoW tokens for u that signs one token and
// returns it until a minute before it expires (at most half its lifetime
// before), then signs the next: one signature per token lifetime, however
// many goroutines call it. QSEoW tokens carry no jti, so the same token may
// be presented on many requests. Keep the source for as long as the user
// makes requests: a new source per request signs per request. The source
// reads the time from the builder's clock ([WithClock]). It is safe for
// concurrent use; u is checked when a token is signed, and refused claims
// are returned by Token as [*ClaimError] values. Formatted with fmt, it
// shows no token.
func (q *QSEoW) TokenSource(u QSEoWUser) TokenSource {
	return newCachingSource(signSource{variant: "QSEoW", now: q.cfg.now, sign: func(ctx context.Context) (Token, error) { return q.Sign(ctx, u) }}, refreshBefore)
}

// TokenSource returns a source of Qlik Cloud tokens for u that signs a new
// token, with a new jti, on every call. It does not cache: a Qlik Cloud
// token is exchanged once, at POST /login/jwt-session, and Qlik refuses a
// jti it has seen, so each login needs its own token. The session package
// (github.com/qsjwt/qsjwt/session) calls it once per login. It is safe for
// concurrent use.
func (c *Cloud) TokenSource(u CloudUser) TokenSource {
	return signSource{variant: "Qlik Cloud", now: c.cfg.now, sign: func(ctx context.Context) (Token, error) { return c.Sign(ctx, u) }}
}

// signSource signs a new token on every call and knows the builder's clock.
type signSource struct {
	variant string
	now     func() time.Time
	sign    func(ctx context.Context) (Token, error)
}

func (s signSource) Token(ctx context.Context) (Token, error) { return s.sign(ctx) }
func (s signSource) clockNow() time.Time                      { return s.now() }

// Format prints what the source is, never a token or a key.
func (s signSource) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.TokenSource{%s, signs per call}", s.variant)
}

// clocked is a TokenSource made by this package, which knows the clock its
// tokens' times come from.
type clocked interface{ clockNow() time.Time }

// nowOf returns the clock of src when this package made it, else time.Now.
func nowOf(src TokenSource) func() time.Time {
	if c, ok := src.(clocked); ok {
		return c.clockNow
	}
	return time.Now
}

// newCachingSource returns a [TokenSource] that returns the token src last
// gave until before ahead of that token's ExpiresAt, then asks src for a new
// one. The margin is capped at half the token's lifetime, so a short
// lifetime does not mean a signature per call; a token with no ExpiresAt is
// kept for good. A token with an ID (a Qlik Cloud token, whose jti Qlik
// accepts once) is never kept: every call asks src. Concurrent callers share
// one call to src: while it runs, the others wait for its result (or for
// their own context to end). An error from src is returned to the callers
// that waited for it and is not cached: the next call asks src again.
//
// Time is read from src's clock when src was made by this package (the
// builder's [WithClock]), else from time.Now.
func newCachingSource(src TokenSource, before time.Duration) TokenSource {
	if r, ok := src.(*cachingSource); ok {
		src = r.src
	}
	return &cachingSource{src: src, before: before, now: nowOf(src)}
}

type cachingSource struct {
	src    TokenSource
	before time.Duration
	now    func() time.Time

	mu      sync.Mutex
	tok     Token
	pending *sharedcall.Call[Token] // the call to src in flight, if any
}

func (s *cachingSource) clockNow() time.Time { return s.now() }

// Format prints the source and when its cached token expires, never the
// token.
func (s *cachingSource) Format(f fmt.State, _ rune) {
	s.mu.Lock()
	exp, cached := s.tok.ExpiresAt, s.tok.Raw != ""
	s.mu.Unlock()
	if !cached {
		fmt.Fprint(f, "qsjwt.TokenSource{caching, no token}")
		return
	}
	fmt.Fprintf(f, "qsjwt.TokenSource{caching, token expires %s}", formatTime(exp))
}

// fresh reports whether t can still be handed out.
func (s *cachingSource) fresh(t Token) bool {
	if t.Raw == "" {
		return false
	}
	if t.ExpiresAt.IsZero() {
		return true
	}
	margin := s.before
	if life := t.ExpiresAt.Sub(t.IssuedAt); !t.IssuedAt.IsZero() && margin > life/2 {
		margin = life / 2
	}
	return s.now().Before(t.ExpiresAt.Add(-margin))
}

// Renew drops refused from the cache, if it is the cached token, and returns
// the next token: see [TokenSource].
func (s *cachingSource) Renew(ctx context.Context, refused Token) (Token, error) {
	s.mu.Lock()
	if s.tok.Raw == refused.Raw {
		s.tok = Token{}
	}
	s.mu.Unlock()
	return s.Token(ctx)
}

func (s *cachingSource) Token(ctx context.Context) (Token, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		s.mu.Lock()
		if s.fresh(s.tok) {
			t := s.tok
			s.mu.Unlock()
			return t, nil
		}
		if c := s.pending; c != nil {
			s.mu.Unlock()
			t, again, err := c.Wait(ctx)
			if again || (err == nil && t.ID != "") {
				continue // a single-use token is not shared: sign another
			}
			return t, err
		}
		c := sharedcall.New[Token]()
		s.pending = c
		s.mu.Unlock()
		return c.Run(func() (Token, error) { return s.src.Token(ctx) }, func(t Token, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.pending = nil
			if err == nil && t.ID == "" {
				s.tok = t
			}
		})
	}
}
