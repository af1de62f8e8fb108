package engine

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Verify checks the signature of the compact JWS token under alg with key,
// and returns the payload that the signature covers: [ParseCompact] and
// [Compact.VerifyRSA] over the exact bytes received, for a caller that has
// read alg from its own decoding of the header.
//
// alg must be in allowed, which every caller gives explicitly (there is no
// default list). Only RS256, RS384 and RS512 with an *rsa.PublicKey are
// known here, so "none", HS* (an HMAC keyed with a public certificate
// included) and a key of another type are refused. Only the compact
// serialization with exactly three segments is read: no JWS JSON
// serialization, no second signature, no JWE.
func Verify(token, alg string, allowed []string, key crypto.PublicKey) ([]byte, error) {
	if !slices.Contains(allowed, alg) {
		return nil, fmt.Errorf("algorithm %q is not allowed (allowed: %s)", alg, strings.Join(allowed, ", "))
	}
	if Hash(alg) == 0 || alg[0] != 'R' {
		return nil, fmt.Errorf("algorithm %q is not an RSA PKCS #1 v1.5 algorithm", alg)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok || pub == nil {
		return nil, fmt.Errorf("algorithm %s needs an RSA public key, not %T", alg, key)
	}
	c, err := ParseCompact(token)
	if err != nil {
		return nil, err
	}
	if err := c.VerifyRSA(alg, allowed, pub); err != nil {
		return nil, err
	}
	return c.Payload, nil
}

// Errors of ParseJWK.
var (
	// ErrPrivateJWK: the JWK holds a private or secret key.
	ErrPrivateJWK = errors.New("private key given where the public key or certificate belongs")
	// ErrUnsupportedJWK: the JWK is for encryption or another algorithm.
	ErrUnsupportedJWK = errors.New("unsupported JWK")
)

// ParseJWK reads one JSON Web Key, or a JWK Set holding exactly one key, and
// returns its public key. A private RSA, EC or OKP key and a symmetric ("oct")
// key give ErrPrivateJWK; a key meant for encryption ("use": "enc") or for an
// algorithm other than RS256/RS384/RS512 gives ErrUnsupportedJWK; anything
// else that does not parse, another error. Errors never contain key material.
func ParseJWK(data []byte) (crypto.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, errors.New("not a JSON Web Key: the JSON does not parse")
	}
	if set.Keys != nil {
		if len(set.Keys) != 1 {
			return nil, fmt.Errorf("a JWK Set with %d keys; give the one key Qlik verifies with", len(set.Keys))
		}
		data = set.Keys[0]
	}
	// Refuse private and secret keys before jwx parses them, so that no
	// error of jwx's could echo their members.
	var hint struct {
		Kty string          `json:"kty"`
		D   json.RawMessage `json:"d"`
		K   json.RawMessage `json:"k"`
		Use string          `json:"use"`
		Alg string          `json:"alg"`
	}
	if err := json.Unmarshal(data, &hint); err != nil {
		return nil, errors.New("not a JSON Web Key: the key is not a JSON object")
	}
	switch {
	case hint.D != nil || hint.K != nil || hint.Kty == "oct":
		return nil, fmt.Errorf("%w (a JWK with kty %q holding a private or secret key)", ErrPrivateJWK, hint.Kty)
	case hint.Use != "" && hint.Use != "sig":
		return nil, fmt.Errorf("%w: the key is for %q, not for signatures (\"use\": \"sig\")", ErrUnsupportedJWK, hint.Use)
	case hint.Alg != "" && hint.Alg != "RS256" && hint.Alg != "RS384" && hint.Alg != "RS512":
		return nil, fmt.Errorf("%w: the key is for algorithm %q; Qlik verifies RS256, RS384 or RS512", ErrUnsupportedJWK, hint.Alg)
	}
	key, err := jwk.ParseKey(bytes.Clone(data))
	if err != nil {
		return nil, fmt.Errorf("not a usable JSON Web Key (kty %q)", hint.Kty)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, fmt.Errorf("not a usable JSON Web Key (kty %q)", hint.Kty)
	}
	return raw, nil
}
