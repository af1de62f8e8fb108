package qsjwt

// This file decides which keys qsjwt accepts and how key errors read.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
)

// MinRSABits is the smallest RSA modulus qsjwt accepts.
const MinRSABits = 2048

// keyOrigin says where a key lives, so that the advice about a key Qlik
// cannot use fits: a key in memory or in a file is replaced by making a new
// one (`qs-jwt keygen`); a key in an HSM or a KMS cannot be exported or made
// here, so a new one must be created there.
type keyOrigin int

const (
	// originFile: a key parsed from PEM, JWK or PFX, or made in memory.
	originFile keyOrigin = iota
	// originDevice: a key behind an opaque crypto.Signer or a SignerFunc
	// (an HSM, a KMS, a remote signing service).
	originDevice
)

// originOf returns the origin of the key behind a crypto.Signer: in memory
// for the standard library's private key types, a device for any other.
func originOf(key crypto.Signer) keyOrigin {
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return originFile
	}
	return originDevice
}

// newKeyAdvice says how to get a key Qlik accepts, for a key of origin.
func newKeyAdvice(origin keyOrigin) string {
	if origin == originDevice {
		return fmt.Sprintf("create an RSA key of at least %d bits in the HSM or KMS and sign with it", MinRSABits)
	}
	return fmt.Sprintf("use an RSA key of at least %d bits: make one with `qs-jwt keygen` or `openssl genrsa 4096`", MinRSABits)
}

// checkPublicKey is checkKey for a key from a file or memory.
func checkPublicKey(pub crypto.PublicKey) error { return checkKey(pub, originFile) }

// checkKey is the one place that decides whether a public key may sign Qlik
// tokens at all: RSA of at least MinRSABits bits with an odd public exponent
// of at least 3. Its advice fits origin.
func checkKey(pub crypto.PublicKey, origin keyOrigin) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: the RSA public key is empty", ErrKey)
		}
		if bits := k.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("%w: RSA key has %d bits; Qlik needs at least %d (%s)", ErrKey, bits, MinRSABits, newKeyAdvice(origin))
		}
		if k.E < 3 || k.E%2 == 0 {
			return fmt.Errorf("%w: the RSA key's public exponent is %d; a valid RSA key has an odd exponent of at least 3 (almost always 65537), and with this one every signature would be refused as tampered (%s)", ErrKey, k.E, newKeyAdvice(origin))
		}
		return nil
	case *ecdsa.PublicKey:
		return fmt.Errorf("%w: an ECDSA key (%s) cannot make the RS256/RS384/RS512 signatures Qlik checks; %s", ErrKey, describeKey(pub), newKeyAdvice(origin))
	case nil:
		return fmt.Errorf("%w: the signer has no public key", ErrKey)
	default:
		return fmt.Errorf("%w: key type %s is not supported; Qlik needs RSA (%s)", ErrKey, describeKey(pub), newKeyAdvice(origin))
	}
}

// describeKey names a key's type and size, never its material.
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "RSA (empty)"
		}
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "ECDSA (empty)"
		}
		return "ECDSA " + k.Curve.Params().Name
	case nil:
		return "no key"
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// Errors about keys. Each error they describe also wraps [ErrKey], so
// errors.Is(err, ErrKey) holds for every key error.
var (
	// errNoPEM: the input holds no PEM block of the kind asked for.
	errNoPEM error = keyKind("no PEM block")
	// errMalformedKey: a PEM block or the key inside it is damaged or
	// truncated.
	errMalformedKey error = keyKind("malformed key")
	// ErrUnsupportedKey: a PEM block type, key type or encryption scheme
	// qsjwt does not read.
	ErrUnsupportedKey error = keyKind("unsupported key")
	// ErrEncryptedKey: the private key is encrypted and no passphrase was
	// given; give one with [WithPassphrase].
	ErrEncryptedKey error = keyKind("encrypted key")
	// ErrWrongPassphrase: the passphrase does not decrypt the private key.
	ErrWrongPassphrase error = keyKind("wrong passphrase")
	// errNotPrivateKey: a public key or certificate was given where a
	// private key belongs.
	errNotPrivateKey error = keyKind("not a private key")
	// errNotPublicKey: a private key was given where a public key or
	// certificate belongs.
	errNotPublicKey error = keyKind("not a public key")
)

// keyKind is a kind of key error: its text follows ErrKey's, and it wraps
// ErrKey. A type, not fmt.Errorf, so that nothing is computed when the
// package initialises: every start of every program that imports qsjwt
// pays for that.
type keyKind string

func (k keyKind) Error() string { return ErrKey.Error() + ": " + string(k) }
func (k keyKind) Unwrap() error { return ErrKey }

// keyError returns an error wrapping kind (which wraps ErrKey), or ErrKey
// when kind is nil. The message must name the problem without key material.
func keyError(kind error, format string, args ...any) error {
	if kind == nil {
		kind = ErrKey
	}
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// maxPEMBytes caps the input of every parser and key file read: a key or a

// checkParsedKey applies, to a key just parsed, the rules that hold for
// every key qsjwt reads: an RSA key must pass checkPublicKey. Other types
// are left for the caller to judge.
func checkParsedKey(pub crypto.PublicKey) error {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return checkPublicKey(pub)
	}
	return nil
}
