package qsjwt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

func TestQSEoWTokenSourceOneSignaturePerLifetime(t *testing.T) {
	clock := qliktest.NewClock(fixedNow)
	signer, signs := sessCountingSigner(t)
	q, err := NewQSEoW(WithSigner(signer), WithClock(clock.Now))
	require.NoError(t, err)
	src := q.TokenSource(QSEoWUser{UserDirectory: "DIR", UserID: "anna"})

	var wg sync.WaitGroup
	toks := make([]string, 64)
	for i := range toks {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			assert.NoError(t, err)
			toks[i] = tok.Raw
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, signs.Load(), "64 concurrent callers share one signature")
	for _, raw := range toks {
		assert.Equal(t, toks[0], raw)
	}

	clock.Advance(DefaultQSEoWTTL - DefaultRefreshBefore - time.Second)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, toks[0], tok.Raw, "still fresh one second before the refresh point")
	assert.EqualValues(t, 1, signs.Load())

	clock.Advance(time.Second)
	tok, err = src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, toks[0], tok.Raw, "replaced DefaultRefreshBefore before expiry")
	assert.Equal(t, clock.Now(), tok.IssuedAt)
	assert.EqualValues(t, 2, signs.Load())
}

func TestReuseTokenSourceShortLifetime(t *testing.T) {
	clock := qliktest.NewClock(fixedNow)
	signer, signs := sessCountingSigner(t)
	q, err := NewQSEoW(WithSigner(signer), WithClock(clock.Now), WithTTL(90*time.Second))
	require.NoError(t, err)
	src := ReuseTokenSource(q.TokenSource(QSEoWUser{UserDirectory: "D", UserID: "u"}), 10*time.Minute)

	for range 3 {
		_, err := src.Token(context.Background())
		require.NoError(t, err)
	}
	clock.Advance(44 * time.Second)
	_, _ = src.Token(context.Background())
	assert.EqualValues(t, 1, signs.Load(), "the margin is capped at half the lifetime (45 s), not 10 minutes")
	clock.Advance(time.Second)
	_, _ = src.Token(context.Background())
	assert.EqualValues(t, 2, signs.Load())
}

func TestReuseTokenSourceErrorsAndContexts(t *testing.T) {
	t.Run("errors are not cached", func(t *testing.T) {
		var calls atomic.Int32
		boom := errors.New("boom")
		src := ReuseTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
			if calls.Add(1) == 1 {
				return Token{}, boom
			}
			return Token{Raw: "t"}, nil
		}), time.Minute)
		_, err := src.Token(context.Background())
		assert.ErrorIs(t, err, boom)
		tok, err := src.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "t", tok.Raw)
		_, _ = src.Token(context.Background())
		assert.EqualValues(t, 2, calls.Load(), "a token without ExpiresAt is kept")
	})

	t.Run("a waiter's context ends", func(t *testing.T) {
		release, started := make(chan struct{}), make(chan struct{})
		src := ReuseTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
			close(started)
			<-release
			return Token{Raw: "slow"}, nil
		}), time.Minute)
		done := make(chan Token)
		go func() {
			tok, _ := src.Token(context.Background())
			done <- tok
		}()
		<-started
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := src.Token(ctx)
		assert.ErrorIs(t, err, context.Canceled, "a waiter stops waiting when its context ends")
		close(release)
		assert.Equal(t, "slow", (<-done).Raw)
	})

	t.Run("the signing caller's context ends", func(t *testing.T) {
		var calls atomic.Int32
		started := make(chan struct{})
		src := ReuseTokenSource(TokenSourceFunc(func(ctx context.Context) (Token, error) {
			if calls.Add(1) == 1 {
				close(started)
				<-ctx.Done()
				return Token{}, ctx.Err()
			}
			return Token{Raw: "second"}, nil
		}), time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error)
		go func() {
			_, err := src.Token(ctx)
			first <- err
		}()
		<-started
		waiter := make(chan Token)
		go func() {
			tok, err := src.Token(context.Background())
			assert.NoError(t, err)
			waiter <- tok
		}()
		cancel()
		assert.ErrorIs(t, <-first, context.Canceled)
		assert.Equal(t, "second", (<-waiter).Raw, "a waiter does not take another caller's cancellation: it asks again")
	})

	t.Run("nested", func(t *testing.T) {
		inner := TokenSourceFunc(func(context.Context) (Token, error) { return Token{Raw: "x"}, nil })
		outer := ReuseTokenSource(ReuseTokenSource(inner, time.Minute), time.Second).(*reuseTokenSource)
		assert.NotNil(t, outer.src.(TokenSourceFunc), "wrapping a reusing source wraps its source")
		assert.Equal(t, time.Second, outer.before)
	})
}

func TestCloudTokenSourceSignsEveryCall(t *testing.T) {
	signer, signs := sessCountingSigner(t)
	c, err := NewCloud(WithSigner(signer), WithIssuer("iss"), WithKeyID("kid"), WithClock(fixedClock))
	require.NoError(t, err)
	src := c.TokenSource(CloudUser{Subject: "s", Name: "n", Email: "e@example.com"})
	a, err := src.Token(context.Background())
	require.NoError(t, err)
	b, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, a.ID, b.ID, "each Qlik Cloud token has its own jti")
	assert.EqualValues(t, 2, signs.Load())

	_, err = c.TokenSource(CloudUser{Subject: "s"}).Token(context.Background())
	var ce *ClaimError
	assert.ErrorAs(t, err, &ce, "claims are checked when a token is signed")
}
