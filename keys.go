package qsjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
)

// MinRSABits is the smallest RSA modulus qsjwt accepts.
const MinRSABits = 2048

// checkPublicKey is the one place that decides whether a public key may sign
// Qlik tokens at all: RSA of at least MinRSABits bits.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: the RSA public key is empty", ErrKey)
		}
		if bits := k.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("%w: RSA key has %d bits; Qlik needs at least %d (make a new one with `qs-jwt keygen` or `openssl genrsa 4096`)", ErrKey, bits, MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		return fmt.Errorf("%w: an ECDSA key (%s) cannot make the RS256/RS384/RS512 signatures Qlik checks; use an RSA key of at least %d bits", ErrKey, describeKey(pub), MinRSABits)
	case nil:
		return fmt.Errorf("%w: the signer has no public key", ErrKey)
	default:
		return fmt.Errorf("%w: key type %T is not supported; Qlik needs an RSA key of at least %d bits", ErrKey, pub, MinRSABits)
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
