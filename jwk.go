package qsjwt

// This file reads and writes JSON Web Keys; the jwx code is in
// internal/engine.

import (
	"crypto"
	"errors"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// ParseJWK reads the public key that checks tokens from a JSON Web Key, or
// a JWK Set holding exactly one key, for [WithPublicKey]. It refuses an RSA
// key under [MinRSABits] bits and a JWK holding a private or secret key (with
// [ErrNotPublicKey]); a key for encryption or for an algorithm other than
// RS256/RS384/RS512 gives [ErrUnsupportedKey], a JWK that does not parse
// [ErrMalformedKey]. Errors wrap [ErrKey] and never contain key material.
func ParseJWK(data []byte) (crypto.PublicKey, error) {
	pub, err := engine.ParseJWK(data)
	switch {
	case errors.Is(err, engine.ErrPrivateJWK):
		return nil, keyError(ErrNotPublicKey, "%v", err)
	case errors.Is(err, engine.ErrUnsupportedJWK):
		return nil, keyError(ErrUnsupportedKey, "%v", err)
	case err != nil:
		return nil, keyError(ErrMalformedKey, "%v", err)
	}
	if err := checkParsedKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}
