package qsjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Signer produces the signature of a token. It is small enough for a KMS, an
// HSM or a remote signing service to implement, and its method names differ
// from crypto.Signer's, so one type can be both.
//
// Public returns the public half of the signing key (an *rsa.PublicKey); the
// builders check it against the variant's algorithms once, when they are
// made, and Qlik verifies the token with the certificate of this key.
//
// SignDigest signs digest, the hash (computed with hash) of the token's JWS
// signing input, exactly as crypto.Signer.Sign does: for RSA a PKCS #1 v1.5
// signature. It must honour ctx's cancellation when it does I/O, and be safe
// for concurrent use: one builder signs for many goroutines at once.
//
// A Signer that can only sign whole messages (an HSM key whose policy allows
// only hash-and-sign mechanisms such as CKM_SHA256_RSA_PKCS) also has
//
//	SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error)
//
// which the builders then call instead of SignDigest, with the signing input
// itself; SignDigest may then return an error. A type that is both a
// crypto.MessageSigner and a Signer gets the same: its crypto.MessageSigner
// SignMessage is called with the signing input and crypto/rand.Reader.
//
// Every signature is checked before a token is returned: its length, and,
// for any Signer but an in-memory *rsa.PrivateKey (which crypto/rsa checks
// itself), that it verifies with Public. A signer that signs with another
// key fails at once with [ErrSigner] instead of with Qlik.
type Signer interface {
	Public() crypto.PublicKey
	SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
}

// messageSigner is the optional upgrade of a Signer described on [Signer].
type messageSigner interface {
	SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error)
}

// SignerFunc adapts a public key and a signing function, the SignDigest
// half of a [Signer], to a [Signer], for a remote signing service or a KMS
// that needs no type of its own. The public key is checked when a builder
// is made with it.
func SignerFunc(public crypto.PublicKey, sign func(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)) Signer {
	return funcSigner{public: public, sign: sign}
}

type funcSigner struct {
	public crypto.PublicKey
	sign   func(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
}

func (s funcSigner) Public() crypto.PublicKey { return s.public }

func (s funcSigner) SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	if s.sign == nil {
		return nil, errors.New("SignerFunc was given a nil function")
	}
	return s.sign(ctx, digest, hash)
}

// Format prints a summary of the key, never key material.
func (s funcSigner) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.SignerFunc(%s)", describeKey(s.public))
}

// SignerFromCrypto wraps any crypto.Signer (an *rsa.PrivateKey, or an opaque
// signer backed by an HSM or a KMS) as a [Signer]. Its public key must be RSA
// of at least 2048 bits, or ECDSA P-384, which signs only OAuth client
// assertions ([NewClientAssertion], ES384); the algorithm is worked out
// from it and checked against the variant when a builder is made. A key
// that implements crypto.MessageSigner is given the signing input to hash
// and sign itself; any other, its digest. Both get crypto/rand.Reader.
func SignerFromCrypto(key crypto.Signer) (Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: the crypto.Signer is nil", ErrSigner)
	}
	if !isP384(key.Public()) {
		if err := checkKey(key.Public(), originOf(key)); err != nil {
			return nil, err
		}
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return rsaSigner{key: k}, nil
	case crypto.MessageSigner:
		return messageCryptoSigner{cryptoSigner{key: k}}, nil
	}
	return cryptoSigner{key: key}, nil
}

// signerOrigin says where the key behind s lives, so that a refused key is
// met with advice that fits it: keygen for a key in memory, the HSM or KMS
// for any other.
func signerOrigin(s Signer) keyOrigin {
	switch k := s.(type) {
	case rsaSigner:
		return originFile
	case cryptoSigner:
		return originOf(k.key)
	case messageCryptoSigner:
		return originOf(k.key)
	}
	return originDevice
}

// rsaSigner is a Signer over an RSA key in memory, the common case: the one
// Signer whose signatures signToken does not verify again, since crypto/rsa
// checks every signature it makes.
type rsaSigner struct{ key *rsa.PrivateKey }

// cryptoSigner is a Signer over an opaque crypto.Signer; ctx is checked
// before the call, since a crypto.Signer cannot be cancelled.
type cryptoSigner struct{ key crypto.Signer }

// messageCryptoSigner is a cryptoSigner whose key is a crypto.MessageSigner.
type messageCryptoSigner struct{ cryptoSigner }

var (
	_ Signer        = rsaSigner{}
	_ Signer        = cryptoSigner{}
	_ Signer        = funcSigner{}
	_ messageSigner = messageCryptoSigner{}
)

func (s rsaSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s rsaSigner) SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rsa.SignPKCS1v15(rand.Reader, s.key, hash, digest)
}

// Format prints a summary of the key, never key material.
func (s rsaSigner) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.Signer(%s)", describeKey(&s.key.PublicKey))
}

func (s cryptoSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s cryptoSigner) SignDigest(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.key.Sign(rand.Reader, digest, hash)
}

func (s messageCryptoSigner) SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.key.(crypto.MessageSigner).SignMessage(rand.Reader, message, hash)
}

// Format prints a summary of the key, never key material.
func (s cryptoSigner) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.Signer(%s)", describeKey(s.key.Public()))
}

// signToken builds the token of claims with the hand-built encoder, signs it
// with s (SignMessage when s offers it, else SignDigest), checks the
// signature and returns the compact token. A claim the encoder cannot write
// gives a *ClaimError; a failing signer, or a signature of the wrong length
// or that does not verify with s.Public(), an error wrapping ErrSigner; an
// ended ctx, ctx's error, also when it ends while the signer works. ES384
// needs a P-384 key; its ASN.1 signature becomes the JWS r||s form.
func signToken(ctx context.Context, s Signer, alg Algorithm, kid string, claims []engine.Claim) (string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	h := alg.Hash()
	if h == 0 {
		return "", fmt.Errorf("%w: algorithm %q is not one of RS256, RS384, RS512, ES384", ErrSigner, alg)
	}
	var pub *rsa.PublicKey
	var ecPub *ecdsa.PublicKey
	size := engine.ES384SignatureSize
	if alg == ES384 {
		if ecPub, _ = s.Public().(*ecdsa.PublicKey); !isP384(ecPub) {
			return "", fmt.Errorf("%w: ES384 needs an ECDSA P-384 key; the signer's public key is %s", ErrSigner, describeKey(s.Public()))
		}
	} else {
		var ok bool
		if pub, ok = s.Public().(*rsa.PublicKey); !ok || pub == nil || pub.N == nil {
			return "", fmt.Errorf("%w: the signer's public key is %s, not an RSA key", ErrSigner, describeKey(s.Public()))
		}
		size = pub.Size()
	}
	input, err := engine.AppendSigningInput(make([]byte, 0, engine.TokenSize(kid, claims, size)), string(alg), kid, claims)
	if err != nil {
		var ce *engine.ClaimError
		if errors.As(err, &ce) {
			return "", &ClaimError{Claim: ce.Claim, Reason: ce.Reason, err: errInvalidClaim}
		}
		return "", fmt.Errorf("%w: %w", ErrSigner, err)
	}

	var sum [64]byte
	digest := hashInto(&sum, h, input)
	var sig []byte
	switch ms := s.(type) {
	case messageSigner:
		sig, err = ms.SignMessage(ctx, input, h)
	case crypto.MessageSigner: // one type that is a crypto.Signer and a Signer, e.g. a PKCS #11 key
		if err = ctx.Err(); err == nil {
			sig, err = ms.SignMessage(rand.Reader, input, h)
		}
	default:
		sig, err = s.SignDigest(ctx, digest, h)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", ctxErr
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSigner, err)
	}
	if ecPub != nil {
		// A crypto.Signer returns ASN.1; the JWS carries r||s. ecdsa does not
		// check its own signatures, so every one is verified here.
		if sig, err = engine.ECDSAToJWS(sig, 48); err != nil {
			return "", fmt.Errorf("%w: %w; a Signer for ES384 returns the ASN.1 signature crypto.Signer does", ErrSigner, err)
		}
		if engine.VerifyES384(ecPub, input, sig) != nil {
			return "", fmt.Errorf("%w: the signature does not verify with the signer's public key: "+
				"the signer signs with another key, or not ES384 (ECDSA P-384 with SHA-384)", ErrSigner)
		}
		return string(engine.AppendSignature(input, sig)), nil
	}
	if len(sig) != size {
		return "", fmt.Errorf("%w: the signer returned a %d-byte signature; %s with a %d-bit key signs with %d bytes",
			ErrSigner, len(sig), alg, pub.N.BitLen(), size)
	}
	if _, inMemory := s.(rsaSigner); !inMemory {
		if rsa.VerifyPKCS1v15(pub, h, digest, sig) != nil {
			return "", fmt.Errorf("%w: the signature does not verify with the signer's public key: "+
				"the signer signs with another key, or not %s (RSA PKCS #1 v1.5 with %v)", ErrSigner, alg, h)
		}
	}
	return string(engine.AppendSignature(input, sig)), nil
}

// isP384 reports whether pub is an ECDSA P-384 public key, the one
// non-RSA key qsjwt signs with (ES384 client assertions).
func isP384(pub crypto.PublicKey) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k != nil && k.Curve == elliptic.P384()
}

// hashInto hashes input with h into sum and returns the digest, a slice of
// sum: no allocation.
func hashInto(sum *[64]byte, h crypto.Hash, input []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(input)
		return sum[:copy(sum[:], s[:])]
	case crypto.SHA384:
		s := sha512.Sum384(input)
		return sum[:copy(sum[:], s[:])]
	default:
		*sum = sha512.Sum512(input)
		return sum[:]
	}
}
