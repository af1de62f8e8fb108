package engine

// This file holds what an ES384 token needs beyond RSA: the JWS form of an
// ECDSA signature (RFC 7518 §3.4) and its check over the exact bytes.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// ES384SignatureSize is the length of an ES384 signature in a JWS: r and s,
// 48 bytes each, big-endian, left-padded with zeros.
const ES384SignatureSize = 96

// ECDSAToJWS turns der, an ECDSA signature in the ASN.1 form crypto.Signer
// returns (SEQUENCE { r INTEGER, s INTEGER }), into the fixed-length r||s
// form a JWS carries, each half size bytes. It refuses trailing bytes, a
// negative or zero r or s, and a value longer than size.
func ECDSAToJWS(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	switch {
	case err != nil:
		return nil, errors.New("the signature is not an ASN.1 ECDSA signature (SEQUENCE of r and s)")
	case len(rest) != 0:
		return nil, errors.New("the ASN.1 ECDSA signature has trailing bytes")
	}
	out := make([]byte, 2*size)
	for i, v := range []*big.Int{sig.R, sig.S} {
		if v.Sign() <= 0 || (v.BitLen()+7)/8 > size {
			return nil, fmt.Errorf("the ECDSA signature's %s is out of range for a %d-byte curve", [2]string{"r", "s"}[i], size)
		}
		v.FillBytes(out[i*size : (i+1)*size])
	}
	return out, nil
}

// VerifyES384 checks c's signature, the 96-byte r||s of RFC 7518, over
// c.SigningInput, exactly the bytes received, with ECDSA P-384 and SHA-384.
// A signature of another length or that does not verify gives
// ErrBadSignature.
func (c *Compact) VerifyES384(key *ecdsa.PublicKey) error {
	if key == nil || key.Curve != elliptic.P384() {
		return errors.New("no ECDSA P-384 public key")
	}
	return VerifyES384(key, c.SigningInput, c.Signature)
}

// VerifyES384 checks sig, the 96-byte r||s form, over input with key.
func VerifyES384(key *ecdsa.PublicKey, input, sig []byte) error {
	if len(sig) != ES384SignatureSize {
		return ErrBadSignature
	}
	digest := sha512.Sum384(input)
	r := new(big.Int).SetBytes(sig[:48])
	s := new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return ErrBadSignature
	}
	return nil
}
