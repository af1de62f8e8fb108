package qsjwt

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"sync/atomic"
)

// maxAbandonedSigns is how many calls a SignerWithDeadline signer lets run
// on in the background after their callers gave up. Past it, new calls fail
// at once with [ErrSigner] until some of those calls return: a signer that
// hangs for good then costs a fixed number of goroutines, not one per token.
const maxAbandonedSigns = 8

// SignerWithDeadline returns a Signer that gives up when the signing call's
// ctx ends, for a signer that does not honour ctx itself: a crypto.Signer
// behind [SignerFromCrypto], a PKCS #11 token whose C_Sign cannot be
// interrupted, a KMS client without a context. It is opt-in because of what
// it costs:
//
//   - one goroutine per signing call made with a ctx that can end (a ctx
//     without Done, such as context.Background(), calls s directly);
//   - a call abandoned at its deadline keeps running in the background until
//     s returns; its result, signature or error, is discarded;
//   - at most 8 abandoned calls run at once per returned Signer; while
//     that many are stuck, further calls fail at once with an error
//     wrapping [ErrSigner] that says the signer seems hung.
//
// The digest is copied, so the caller may reuse its buffer once the call
// returns. A hung call is not cancelled: s still holds whatever it holds (an
// HSM session, a connection) until it returns. The returned Signer offers
// SignMessage when s does. It is safe for concurrent use if s is.
func SignerWithDeadline(s Signer) Signer {
	d := &deadlineSigner{s: s}
	if m, ok := s.(messageSigner); ok {
		return deadlineMessageSigner{deadlineSigner: d, m: m}
	}
	return d
}

type deadlineSigner struct {
	s         Signer
	abandoned atomic.Int64 // calls still running after their caller gave up
}

type deadlineMessageSigner struct {
	*deadlineSigner
	m messageSigner
}

var (
	_ Signer        = (*deadlineSigner)(nil)
	_ Signer        = deadlineMessageSigner{}
	_ messageSigner = deadlineMessageSigner{}
)

func (d *deadlineSigner) Public() crypto.PublicKey { return d.s.Public() }

// SignDigest signs digest, giving up at ctx's deadline.
func (d *deadlineSigner) SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	return d.call(ctx, digest, hash, d.s.SignDigest)
}

// SignMessage signs message with the wrapped signer's SignMessage.
func (d deadlineMessageSigner) SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	return d.call(ctx, message, hash, d.m.SignMessage)
}

// Format prints the wrapped signer's summary, never key material.
func (d *deadlineSigner) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.SignerWithDeadline(%s)", describeKey(d.s.Public()))
}

// Call states: the background call is running, has returned, or was given
// up on by its caller. Exactly one of the caller and the background call
// moves a call out of callRunning.
const (
	callRunning int32 = iota
	callReturned
	callAbandoned
)

type signResult struct {
	sig []byte
	err error
}

// call runs sign in a goroutine and waits for it or for ctx to end.
func (d *deadlineSigner) call(ctx context.Context, data []byte, hash crypto.Hash,
	sign func(context.Context, []byte, crypto.Hash) ([]byte, error)) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return sign(ctx, data, hash)
	}
	if n := d.abandoned.Load(); n >= maxAbandonedSigns {
		return nil, fmt.Errorf("%w: %d earlier signing calls are still running after their deadline; the signer (%s) seems hung", ErrSigner, n, describeKey(d.s.Public()))
	}
	data = bytes.Clone(data)
	var state atomic.Int32
	done := make(chan signResult, 1) // buffered: a late result is dropped, never blocks
	go func() {
		sig, err := sign(ctx, data, hash)
		done <- signResult{sig: sig, err: err}
		if !state.CompareAndSwap(callRunning, callReturned) {
			d.abandoned.Add(-1) // the caller gave up on this call
		}
	}()
	select {
	case r := <-done:
		return r.sig, r.err
	case <-ctx.Done():
		if state.CompareAndSwap(callRunning, callAbandoned) {
			d.abandoned.Add(1)
		}
		return nil, ctx.Err()
	}
}
