package qsjwt

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TokenSource returns tokens for one user. It is how sessions and transports
// get tokens, in the spirit of golang.org/x/oauth2's TokenSource.
//
// Token must be safe for concurrent use by multiple goroutines. The returned
// Token belongs to the caller.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc adapts a function to a [TokenSource], for tokens made
// elsewhere (another service, a test).
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token calls f(ctx).
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// DefaultRefreshBefore is how long before its expiry a cached token is
// replaced, by [ReuseTokenSource] and [QSEoW.TokenSource].
const DefaultRefreshBefore = time.Minute

// TokenSource returns a source of QSEoW tokens for u that signs one token and
// returns it until [DefaultRefreshBefore] before it expires (at most half its
// lifetime before), then signs the next: one signature per token lifetime,
// however many goroutines call it. QSEoW tokens carry no jti, so the same
// token may be presented on many requests. The source reads the time from
// the builder's clock ([WithClock]). It is safe for concurrent use; u is
// checked when a token is signed, and a refused claim is returned by Token
// as a [*ClaimError].
func (q *QSEoW) TokenSource(u QSEoWUser) TokenSource {
	return ReuseTokenSource(signSource{now: q.cfg.now, sign: func(ctx context.Context) (Token, error) { return q.Sign(ctx, u) }}, DefaultRefreshBefore)
}

// TokenSource returns a source of Qlik Cloud tokens for u that signs a new
// token, with a new jti, on every call. It does not cache: a Qlik Cloud
// token is exchanged once, at POST /login/jwt-session, and Qlik refuses a
// jti it has seen, so each login needs its own token. [CloudSession] calls
// it once per login. Do not wrap it in [ReuseTokenSource]. It is safe for
// concurrent use.
func (c *Cloud) TokenSource(u CloudUser) TokenSource {
	return signSource{now: c.cfg.now, sign: func(ctx context.Context) (Token, error) { return c.Sign(ctx, u) }}
}

// signSource signs a new token on every call and knows the builder's clock.
type signSource struct {
	now  func() time.Time
	sign func(ctx context.Context) (Token, error)
}

func (s signSource) Token(ctx context.Context) (Token, error) { return s.sign(ctx) }
func (s signSource) clockNow() time.Time                      { return s.now() }

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

// ReuseTokenSource returns a [TokenSource] that returns the token src last
// gave until refreshBefore before that token's ExpiresAt, then asks src for
// a new one. The margin is capped at half the token's lifetime, so a short
// lifetime does not mean a signature per call; a token with no ExpiresAt is
// kept for good. Concurrent callers share one call to src: while it runs,
// the others wait for its result (or for their own context to end). An error
// from src is returned to the callers that waited for it and is not cached:
// the next call asks src again.
//
// Time is read from src's clock when src was made by this package (the
// builder's [WithClock]), else from time.Now. The returned source is safe
// for concurrent use if src is. Do not wrap a Qlik Cloud source in it: a
// Qlik Cloud token may be exchanged only once.
func ReuseTokenSource(src TokenSource, refreshBefore time.Duration) TokenSource {
	if r, ok := src.(*reuseTokenSource); ok {
		src = r.src
	}
	return &reuseTokenSource{src: src, before: refreshBefore, now: nowOf(src)}
}

type reuseTokenSource struct {
	src    TokenSource
	before time.Duration
	now    func() time.Time

	mu      sync.Mutex
	tok     Token
	pending *call[Token] // the call to src in flight, if any
}

func (s *reuseTokenSource) clockNow() time.Time { return s.now() }

// fresh reports whether t can still be handed out.
func (s *reuseTokenSource) fresh(t Token) bool {
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

func (s *reuseTokenSource) Token(ctx context.Context) (Token, error) {
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
			t, again, err := c.wait(ctx)
			if again {
				continue
			}
			return t, err
		}
		c := newCall[Token]()
		s.pending = c
		s.mu.Unlock()
		c.run(func() (Token, error) { return s.src.Token(ctx) }, func(t Token, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.pending = nil
			if err == nil {
				s.tok = t
			}
		})
		return c.val, c.err
	}
}

// call is one piece of work that concurrent callers share: the first runs
// it, the others wait for its result.
type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newCall[T any]() *call[T] { return &call[T]{done: make(chan struct{})} }

// run runs fn, hands its result to record (which stores it under the
// owner's lock), and then wakes the waiters, also when fn panics.
func (c *call[T]) run(fn func() (T, error), record func(T, error)) {
	c.err = errors.New("qsjwt: shared call did not finish")
	defer func() {
		record(c.val, c.err)
		close(c.done)
	}()
	c.val, c.err = fn()
}

// wait waits for c or for ctx. again reports that c failed only because the
// context of the caller that ran it ended while ctx has not: the caller
// should try again rather than take another caller's cancellation.
func (c *call[T]) wait(ctx context.Context) (v T, again bool, err error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return v, false, ctx.Err()
	}
	if c.err != nil && (errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded)) && ctx.Err() == nil {
		return v, true, nil
	}
	return c.val, false, c.err
}
