package pkcs11

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	ck "github.com/miekg/pkcs11"
	"github.com/qsjwt/qsjwt"
)

var (
	_ crypto.Signer        = (*Key)(nil)
	_ crypto.MessageSigner = (*Key)(nil)
	_ qsjwt.Signer         = qsjwtSigner{}
)

// Public returns the key's *rsa.PublicKey.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign implements crypto.Signer: an RSA PKCS #1 v1.5 signature of digest
// (hashed with opts.HashFunc(): SHA-256, SHA-384 or SHA-512) made with the
// raw CKM_RSA_PKCS mechanism. rand is not used: the token signs. A token
// whose key allows only hash-and-sign mechanisms refuses it; use
// SignMessage.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := notPSS(opts); err != nil {
		return nil, err
	}
	return k.SignDigest(context.Background(), digest, opts.HashFunc())
}

// notPSS refuses RSA-PSS options, which would otherwise get a PKCS #1 v1.5
// signature.
func notPSS(opts crypto.SignerOpts) error {
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return errors.New("qsjwt/pkcs11: RSA-PSS is not supported; Qlik checks PKCS #1 v1.5 (RS256/RS384/RS512)")
	}
	return nil
}

// SignMessage implements crypto.MessageSigner: the token hashes message and
// signs it with CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS or
// CKM_SHA512_RSA_PKCS, as a key whose CKA_ALLOWED_MECHANISMS forbids raw RSA
// requires. rand is not used.
func (k *Key) SignMessage(_ io.Reader, message []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := notPSS(opts); err != nil {
		return nil, err
	}
	return k.signMessage(context.Background(), message, opts.HashFunc())
}

// SignDigest is the qsjwt.Signer method of the 1.0 API: Sign with a ctx.
// PKCS #11 calls cannot be interrupted: ctx is checked before the call and
// bounds the wait for a free session; wrap the signer with
// qsjwt.SignerWithDeadline to give up on a hung token.
func (k *Key) SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	prefix, ok := digestInfo[hash]
	if !ok {
		return nil, fmt.Errorf("qsjwt/pkcs11: hash %v is not supported; Qlik's RS256/RS384/RS512 use SHA-256, SHA-384 or SHA-512", hash)
	}
	if len(digest) != hash.Size() {
		return nil, fmt.Errorf("qsjwt/pkcs11: the digest has %d bytes; %v gives %d", len(digest), hash, hash.Size())
	}
	data := append(append(make([]byte, 0, len(prefix)+len(digest)), prefix...), digest...)
	return k.sign(ctx, ck.CKM_RSA_PKCS, data)
}

func (k *Key) signMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	mech, ok := messageMechanisms[hash]
	if !ok {
		return nil, fmt.Errorf("qsjwt/pkcs11: hash %v is not supported; Qlik's RS256/RS384/RS512 use SHA-256, SHA-384 or SHA-512", hash)
	}
	return k.sign(ctx, mech, message)
}

// digestInfo holds the DER DigestInfo prefixes of PKCS #1 v1.5 (RFC 8017,
// section 9.2, note 1) that CKM_RSA_PKCS expects before the digest.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var messageMechanisms = map[crypto.Hash]uint{
	crypto.SHA256: ck.CKM_SHA256_RSA_PKCS,
	crypto.SHA384: ck.CKM_SHA384_RSA_PKCS,
	crypto.SHA512: ck.CKM_SHA512_RSA_PKCS,
}

var mechanismNames = map[uint]string{
	ck.CKM_RSA_PKCS:        "CKM_RSA_PKCS",
	ck.CKM_SHA256_RSA_PKCS: "CKM_SHA256_RSA_PKCS",
	ck.CKM_SHA384_RSA_PKCS: "CKM_SHA384_RSA_PKCS",
	ck.CKM_SHA512_RSA_PKCS: "CKM_SHA512_RSA_PKCS",
}

// maxAttempts bounds the reconnections of one signing call.
const maxAttempts = 3

// sign runs C_SignInit and C_Sign on a session, reconnecting when the
// token says sessions, handles or the library were lost.
func (k *Key) sign(ctx context.Context, mech uint, data []byte) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case k.sem <- struct{}{}:
	case <-k.done:
		return nil, fmt.Errorf("%w: %s", ErrClosed, k.desc)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-k.sem }()
	var err error
	for range maxAttempts {
		var sig []byte
		sig, err = k.signOnce(mech, data)
		if err == nil {
			return sig, nil
		}
		if classify(err) == noRecovery || errors.Is(err, ErrClosed) {
			break
		}
	}
	return nil, k.signError(mech, err)
}

func (k *Key) signOnce(mech uint, data []byte) ([]byte, error) {
	c, s, obj, err := k.acquire()
	if err != nil {
		if classify(err) != noRecovery {
			k.mu.Lock()
			k.conn.valid = false
			k.mu.Unlock()
		}
		return nil, err
	}
	err = c.SignInit(s.h, []*ck.Mechanism{ck.NewMechanism(mech, nil)}, obj)
	var sig []byte
	if err == nil {
		sig, err = c.Sign(s.h, data)
	}
	k.release(s, err)
	return sig, err
}

// acquire returns a logged-in session and the key's handle, connecting
// first when needed.
func (k *Key) acquire() (*ck.Ctx, session, ck.ObjectHandle, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, session{}, 0, ErrClosed
	}
	c, modGen := k.mod.current()
	if !k.conn.valid || k.conn.modGen != modGen {
		if err := k.connect(); err != nil {
			return nil, session{}, 0, err
		}
		c, _ = k.mod.current()
	}
	if n := len(k.idle); n > 0 {
		s := k.idle[n-1]
		k.idle = k.idle[:n-1]
		return c, s, k.conn.obj, nil
	}
	s, err := k.openSession(c, k.conn)
	return c, s, k.conn.obj, err
}

// release keeps a session for the next call, or after an error that calls
// for recovery closes the connection's sessions and, for a library or
// device error, initialises the library again.
func (k *Key) release(s session, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := classify(err)
	if r == noRecovery {
		if !k.closed && s.gen == k.conn.gen {
			k.idle = append(k.idle, s)
		} else if c, modGen := k.mod.current(); s.modGen == modGen {
			_ = c.CloseSession(s.h)
		}
		return
	}
	if s.gen == k.conn.gen {
		k.conn.valid = false
		if sessionGone(err) {
			// Closed by someone else: closing the handles again could close
			// a session that has since been given the same number.
			k.idle = nil
		} else {
			k.idle = append(k.idle, s)
			k.dropIdleLocked()
		}
	}
	switch r {
	case reinitModule:
		_ = k.mod.reinitialize(s.modGen, false) // an error shows on the next connect
	case resetModule:
		_ = k.mod.reinitialize(s.modGen, true)
	}
}

// signError explains a signing failure; the key's own errors pass as they
// are.
func (k *Key) signError(mech uint, err error) error {
	var code ck.Error
	if !errors.As(err, &code) || errors.Is(err, ErrPIN) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrKeyChanged) {
		return err
	}
	name := mechanismNames[mech]
	switch code {
	case ck.CKR_MECHANISM_INVALID, ck.CKR_KEY_FUNCTION_NOT_PERMITTED, ck.CKR_MECHANISM_PARAM_INVALID:
		if mech == ck.CKM_RSA_PKCS {
			return fmt.Errorf("qsjwt/pkcs11: %s refuses raw %s signing (%w); if its CKA_ALLOWED_MECHANISMS allow only hash-and-sign (CKM_SHA256_RSA_PKCS …), sign messages: use Key.Signer() or qsjwt.SignerFromCrypto, which call SignMessage", k.desc, name, err)
		}
		return fmt.Errorf("qsjwt/pkcs11: %s refuses %s (%w); the key's CKA_ALLOWED_MECHANISMS or the token do not allow it", k.desc, name, err)
	}
	return fmt.Errorf("qsjwt/pkcs11: signing with %s on %s: %w", name, k.desc, err)
}

// Close logs out by closing the Key's sessions and, with the last Key of
// its module, finalises the module. It waits for signing calls in progress.
func (k *Key) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil
	}
	k.closed = true
	close(k.done)
	k.mu.Unlock()
	for range cap(k.sem) {
		k.sem <- struct{}{} // wait for calls in progress
	}
	k.dropIdle()
	k.mod.release()
	return nil
}

// Format prints the key's size and URI, never the PIN.
func (k *Key) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "pkcs11.Key(RSA-%d %s)", k.pub.N.BitLen(), k.desc)
}

// Signer returns the key as a qsjwt.Signer that offers the hash-and-sign
// upgrade: SignMessage(ctx, message, hash) uses CKM_SHA256_RSA_PKCS and its
// siblings, SignDigest the raw mechanism. It shares the Key's sessions;
// closing the Key ends it.
func (k *Key) Signer() qsjwt.Signer { return qsjwtSigner{k: k} }

// qsjwtSigner is the Key seen through the qsjwt Signer contract, whose
// methods take a ctx.
type qsjwtSigner struct{ k *Key }

func (s qsjwtSigner) Public() crypto.PublicKey { return s.k.pub }

// SignDigest signs a digest with the raw mechanism.
func (s qsjwtSigner) SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	return s.k.SignDigest(ctx, digest, hash)
}

// SignMessage has the token hash and sign message.
func (s qsjwtSigner) SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	return s.k.signMessage(ctx, message, hash)
}

// Format prints the key's summary, never the PIN.
func (s qsjwtSigner) Format(f fmt.State, verb rune) { s.k.Format(f, verb) }
