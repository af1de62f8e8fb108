package qsjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedSigner signs with the real test key, but only once its gate opens,
// and ignores ctx, as a hung HSM or an uninterruptible crypto.Signer does.
type gatedSigner struct {
	key      *rsa.PrivateKey
	gate     chan struct{} // closed to let every call through
	entered  chan struct{} // one value per call that reached the key
	returned chan struct{} // one value per call that returned
}

func newGatedSigner(t *testing.T) *gatedSigner {
	return &gatedSigner{key: testKey(t), gate: make(chan struct{}), entered: make(chan struct{}, 4*maxAbandonedSigns),
		returned: make(chan struct{}, 4*maxAbandonedSigns)}
}

func (g *gatedSigner) Public() crypto.PublicKey { return &g.key.PublicKey }

func (g *gatedSigner) SignDigest(_ context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	g.entered <- struct{}{}
	<-g.gate
	defer func() { g.returned <- struct{}{} }()
	return g.key.Sign(rand.Reader, digest, hash)
}

// gatedMessageSigner adds the hash-and-sign upgrade.
type gatedMessageSigner struct{ *gatedSigner }

func (g gatedMessageSigner) SignMessage(_ context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	<-g.gate
	h := hash.New()
	h.Write(message)
	return g.key.Sign(rand.Reader, h.Sum(nil), hash)
}

var deadlineUser = QSEoWUser{UserDirectory: "CORP", UserID: "alice"}

func deadlineBuilder(t *testing.T, s Signer) *QSEoW {
	t.Helper()
	q, err := NewQSEoW(s, WithClock(fixedClock))
	require.NoError(t, err)
	return q
}

// waitBackground waits until every abandoned call of s has returned and its
// goroutine has ended (a bound on waiting, not an assertion on time).
func waitBackground(t *testing.T, s Signer, goroutinesBefore int) {
	t.Helper()
	d := s.(*deadlineSigner)
	require.Eventually(t, func() bool { return d.abandoned.Load() == 0 }, 10*time.Second, time.Millisecond,
		"abandoned calls were not counted back down")
	// Polled by hand: require.Eventually runs its condition in a goroutine
	// of its own, which would be counted.
	for start := time.Now(); runtime.NumGoroutine() > goroutinesBefore; time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("a background signing goroutine leaked: %d goroutines, %d before", runtime.NumGoroutine(), goroutinesBefore)
		}
	}
}

func TestSignerWithDeadlineGivesUpAtDeadline(t *testing.T) {
	g := newGatedSigner(t)
	s := SignerWithDeadline(g)
	before := runtime.NumGoroutine()

	digest := sha256.Sum256([]byte("header.payload"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	sig, err := s.SignDigest(ctx, digest[:], crypto.SHA256)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Nil(t, sig)
	<-g.entered // the call did reach the key and runs on in the background
	assert.Equal(t, int64(1), s.(*deadlineSigner).abandoned.Load())

	close(g.gate) // the hung signer returns; its signature is discarded
	<-g.returned
	waitBackground(t, s, before)

	// The same signer signs again once the key answers.
	q := deadlineBuilder(t, s)
	tok, err := q.Sign(ctx, deadlineUser) // ctx has ended: the builder says so
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, tok.Raw)
	tok, err = q.Sign(context.Background(), deadlineUser)
	require.NoError(t, err)
	d := verifyStdlib(t, tok.Raw, &g.key.PublicKey)
	assert.Equal(t, `"alice"`, d.str("userId"))
}

// abandonOne starts a token through q, waits until it reaches the key, then
// ends its ctx: the builder returns ctx's error while the call hangs on.
func abandonOne(t *testing.T, q *QSEoW, g *gatedSigner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := q.Sign(ctx, deadlineUser)
		errs <- err
	}()
	<-g.entered
	cancel()
	require.ErrorIs(t, <-errs, context.Canceled)
}

func TestSignerWithDeadlineSignsBeforeDeadline(t *testing.T) {
	g := newGatedSigner(t)
	close(g.gate)
	q := deadlineBuilder(t, SignerWithDeadline(g))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	tok, err := q.Sign(ctx, deadlineUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, &g.key.PublicKey)
}

func TestSignerWithDeadlineBoundsAbandonedCalls(t *testing.T) {
	g := newGatedSigner(t)
	s := SignerWithDeadline(g)
	q := deadlineBuilder(t, s)
	before := runtime.NumGoroutine()

	for range maxAbandonedSigns {
		abandonOne(t, q, g)
	}
	// The signer is stuck maxAbandonedSigns times: the next call fails at once,
	// even with a ctx that would wait for an hour.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, err := q.Sign(ctx, deadlineUser)
	require.ErrorIs(t, err, ErrSigner)
	assert.Contains(t, err.Error(), "seems hung")
	assert.Contains(t, err.Error(), fmt.Sprint(maxAbandonedSigns))

	close(g.gate)
	for range maxAbandonedSigns {
		<-g.returned
	}
	waitBackground(t, s, before)
	tok, err := q.Sign(ctx, deadlineUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, &g.key.PublicKey)
}

func TestSignerWithDeadlineCopiesDigest(t *testing.T) {
	gate := make(chan struct{})
	seen := make(chan []byte, 1)
	s := SignerWithDeadline(SignerFunc(&testKey(t).PublicKey, func(_ context.Context, digest []byte, _ crypto.Hash) ([]byte, error) {
		<-gate
		seen <- append([]byte(nil), digest...)
		return nil, errors.New("discarded")
	}))
	digest := make([]byte, 32)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := s.SignDigest(ctx, digest, crypto.SHA256)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	for i := range digest {
		digest[i] = 0xff // the caller reuses its buffer while the call runs on
	}
	close(gate)
	assert.Equal(t, make([]byte, 32), <-seen, "the background call signs the digest it was given")
}

func TestSignerWithDeadlineKeepsMessageUpgrade(t *testing.T) {
	g := newGatedSigner(t)
	_, ok := SignerWithDeadline(g).(messageSigner)
	assert.False(t, ok, "no SignMessage when the wrapped signer has none")

	m := gatedMessageSigner{g}
	s := SignerWithDeadline(m)
	ms, ok := s.(messageSigner)
	require.True(t, ok, "SignMessage is kept")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := ms.SignMessage(ctx, []byte("header.payload"), crypto.SHA256)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	close(g.gate)
	sig, err := ms.SignMessage(context.Background(), []byte("header.payload"), crypto.SHA256)
	require.NoError(t, err)
	h := crypto.SHA256.New()
	h.Write([]byte("header.payload"))
	require.NoError(t, rsa.VerifyPKCS1v15(&g.key.PublicKey, crypto.SHA256, h.Sum(nil), sig))
}

func TestSignerWithDeadlineNoDeadlineCallsDirectly(t *testing.T) {
	g := newGatedSigner(t)
	close(g.gate)
	s := SignerWithDeadline(g)
	sig, err := s.SignDigest(context.Background(), make([]byte, 32), crypto.SHA256)
	require.NoError(t, err)
	require.NoError(t, rsa.VerifyPKCS1v15(&g.key.PublicKey, crypto.SHA256, make([]byte, 32), sig))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.SignDigest(ctx, make([]byte, 32), crypto.SHA256)
	require.True(t, errors.Is(err, context.Canceled))
}

func TestSignerWithDeadlineFormat(t *testing.T) {
	s := SignerWithDeadline(newGatedSigner(t))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, s)
		assert.Equal(t, "qsjwt.SignerWithDeadline(RSA-2048)", out, verb)
	}
}
