package engine

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// PublicJWK encodes an RSA public key as a JSON Web Key for RS256
// signatures: "kty", "n", "e", and "kid", "alg":"RS256", "use":"sig". It
// takes only a public key, so a private member can never be written.
func PublicJWK(pub *rsa.PublicKey, kid string) ([]byte, error) {
	if pub == nil || pub.N == nil {
		return nil, errors.New("the RSA public key is empty")
	}
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("the RSA public key cannot be written as a JWK: %w", err)
	}
	for name, value := range map[string]any{
		jwk.KeyIDKey:     kid,
		jwk.AlgorithmKey: jwa.RS256,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := key.Set(name, value); err != nil {
			return nil, fmt.Errorf("setting the JWK's %q: %w", name, err)
		}
	}
	data, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the JWK: %w", err)
	}
	// jwx writes no private member for a public key; check, since a private
	// member in a file meant to be published would be a leak.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, fmt.Errorf("the JWK jwx wrote does not parse: %w", err)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := members[private]; ok {
			return nil, fmt.Errorf("the JWK holds the private member %q", private)
		}
	}
	return data, nil
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
