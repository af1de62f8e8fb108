package engine

import (
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
