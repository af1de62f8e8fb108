package qsjwt

// This file reads and writes JSON Web Keys; internal/engine's jwk.go reads
// and writes their JSON, on the standard library alone.

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"unicode/utf8"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// ParseJWK reads the public key that checks tokens from a JSON Web Key, or
// a JWK Set holding exactly one key, for the verifiers. It refuses an RSA
// key under [MinRSABits] bits, a JWK holding a private or secret key, a key
// for encryption or for an algorithm other than RS256/RS384/RS512 (with
// [ErrUnsupportedKey]), and a JWK that does not parse, each with an error
// that says which. Errors wrap [ErrKey] and never contain key material.
//
// It reads a JWK as RFC 7517 and RFC 7518 write it, more strictly than the
// jwx library qsjwt used before: n, e, x and y in base64url without
// padding or line breaks, n and e in the fewest octets, an EC point of full
// size and on its curve, no member given twice or spelt in another case,
// and an "x5c" whose first certificate holds the key.
func ParseJWK(data []byte) (crypto.PublicKey, error) {
	pub, err := engine.ParseJWK(data)
	switch {
	case errors.Is(err, engine.ErrPrivateJWK):
		return nil, keyError(errNotPublicKey, "%v", err)
	case errors.Is(err, engine.ErrUnsupportedJWK):
		return nil, keyError(ErrUnsupportedKey, "%v", err)
	case err != nil:
		return nil, keyError(errMalformedKey, "%v", err)
	}
	if err := checkParsedKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// PublicJWK encodes pub as a JSON Web Key (RFC 7517) for the places Qlik
// Cloud takes one, such as an OAuth client that signs its requests with
// this key: {"alg":"RS256","e":…,"kid":kid,"kty":"RSA","n":…,"use":"sig"}.
// kid is the key ID the tokens carry; when it is empty, the key's RFC 7638
// [Thumbprint] is used. pub must be an *rsa.PublicKey Qlik accepts (at least
// 2048 bits); a private key is refused (give key.Public()), so the JWK never holds private members. [ParseJWK] reads
// the result back.
func PublicJWK(pub crypto.PublicKey, kid string) ([]byte, error) {
	var rsaPub *rsa.PublicKey
	switch k := pub.(type) {
	case *rsa.PublicKey:
		rsaPub = k
	case crypto.Signer:
		return nil, keyError(errNotPublicKey, "a private key (%T) was given to PublicJWK; give its public half, key.Public()", pub)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	if !utf8.ValidString(kid) {
		return nil, keyError(nil, "the key ID given to PublicJWK is not valid UTF-8")
	}
	if kid == "" {
		var err error
		if kid, err = Thumbprint(pub); err != nil {
			return nil, err
		}
	}
	data, err := engine.PublicJWK(rsaPub, kid)
	if err != nil {
		return nil, keyError(nil, "%v", err)
	}
	return data, nil
}
