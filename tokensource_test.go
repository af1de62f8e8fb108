package qsjwt

import (
	"bytes"
	"context"
	"crypto"
	jsonpkg "encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	signer, signs := countingSigner(t)
	q, err := NewQSEoW(signer, WithClock(clock.Now))
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

	clock.Advance(defaultQSEoWTTL - refreshBefore - time.Second)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, toks[0], tok.Raw, "still fresh one second before the refresh point")
	assert.EqualValues(t, 1, signs.Load())

	clock.Advance(time.Second)
	tok, err = src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, toks[0], tok.Raw, "replaced refreshBefore before expiry")
	assert.Equal(t, clock.Now(), tok.IssuedAt)
	assert.EqualValues(t, 2, signs.Load())
}

func TestCachingSourceShortLifetime(t *testing.T) {
	clock := qliktest.NewClock(fixedNow)
	signer, signs := countingSigner(t)
	q, err := NewQSEoW(signer, WithClock(clock.Now), WithTTL(90*time.Second))
	require.NoError(t, err)
	src := newCachingSource(q.TokenSource(QSEoWUser{UserDirectory: "D", UserID: "u"}), 10*time.Minute)

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

func TestCachingSourceErrorsAndContexts(t *testing.T) {
	t.Run("errors are not cached", func(t *testing.T) {
		var calls atomic.Int32
		boom := errors.New("boom")
		src := newCachingSource(TokenSourceFunc(func(context.Context) (Token, error) {
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
		src := newCachingSource(TokenSourceFunc(func(context.Context) (Token, error) {
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
		src := newCachingSource(TokenSourceFunc(func(ctx context.Context) (Token, error) {
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
		outer := newCachingSource(newCachingSource(inner, time.Minute), time.Second).(*cachingSource)
		assert.NotNil(t, outer.src.(TokenSourceFunc), "wrapping a reusing source wraps its source")
		assert.Equal(t, time.Second, outer.before)
	})
}

func TestCloudTokenSourceSignsEveryCall(t *testing.T) {
	signer, signs := countingSigner(t)
	c, err := NewCloud(signer, "iss", "kid", WithClock(fixedClock))
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

// countingSigner signs with the test key and counts its signatures.
func countingSigner(t testing.TB) (Signer, *atomic.Int64) {
	t.Helper()
	key := testKey(t)
	var n atomic.Int64
	return SignerFunc(key.Public(), func(_ context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
		n.Add(1)
		return key.Sign(nil, digest, hash)
	}), &n
}

// TestCachingSourceNeverKeepsCloudTokens wraps a Qlik Cloud source in the
// caching source, as a user might: every call must still sign a token with
// its own jti, also when callers wait on one another.
func TestCachingSourceNeverKeepsCloudTokens(t *testing.T) {
	signer, signs := countingSigner(t)
	c, err := NewCloud(signer, "iss", "kid", WithClock(fixedClock))
	require.NoError(t, err)
	src := newCachingSource(c.TokenSource(anna), time.Minute)
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			assert.NoError(t, err)
			ids[i] = tok.ID
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		assert.NotEmpty(t, id)
		assert.False(t, seen[id], "jti %s handed out twice", id)
		seen[id] = true
	}
	assert.EqualValues(t, len(ids), signs.Load(), "one signature per call")
	assert.NotContains(t, fmt.Sprint(src), "expires", "no Qlik Cloud token is kept")
}

// TestTokenAndSourcesLogRedacted logs tokens and token sources after use
// through log/slog's text and JSON handlers (TestFormatEveryKeyHolder
// covers fmt): no part of a token may appear.
func TestTokenAndSourcesLogRedacted(t *testing.T) {
	ctx := context.Background()
	qsrc := newTestQSEoW(t).TokenSource(QSEoWUser{UserDirectory: "D", UserID: "u"})
	qtok, err := qsrc.Token(ctx)
	require.NoError(t, err)
	csrc := newTestCloud(t).TokenSource(anna)
	ctok, err := csrc.Token(ctx)
	require.NoError(t, err)

	var logged bytes.Buffer
	text := slog.New(slog.NewTextHandler(&logged, nil))
	json := slog.New(slog.NewJSONHandler(&logged, nil))
	for _, v := range []any{qtok, ctok, &qtok, qsrc, csrc} {
		text.Info("value", "v", v)
		json.Info("value", "v", v)
	}
	// encoding/json, as JSON loggers and error reports serialise structs.
	for _, v := range []any{qtok, ctok, &qtok, []Token{ctok}, map[string]any{"token": qtok}} {
		b, err := jsonpkg.Marshal(v)
		require.NoError(t, err)
		logged.Write(b)
	}
	var back struct{ ID, Raw string }
	b, err := jsonpkg.Marshal(ctok)
	require.NoError(t, err)
	require.NoError(t, jsonpkg.Unmarshal(b, &back))
	assert.Equal(t, ctok.ID, back.ID)
	assert.Equal(t, "[redacted]", back.Raw)
	require.NotEmpty(t, logged.String())
	for _, s := range tokenSecrets(qtok, ctok) {
		assert.NotContains(t, logged.String(), s)
	}
	assert.Contains(t, fmt.Sprint(ctok), ctok.ID, "the redacted form keeps the ID")
	assert.Contains(t, fmt.Sprint(qsrc), "expires", "the caching source says it holds a token")
	assert.Equal(t, fmt.Sprint(qtok), qtok.String())
}
