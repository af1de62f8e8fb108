package engine

// This file writes and reads the JSON Web Keys an OAuth client of Qlik
// Cloud holds for Private Key JWT: RSA for RS256 or RS512, EC P-384 for
// ES384, each with "kid", "alg" and "use":"sig". It needs no jwx: the
// members are few and fixed, and writing them here keeps the order and the
// errors ours.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// assertionJWK is the JSON form, members in the order jwx writes them.
type assertionJWK struct {
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	N   string `json:"n,omitempty"`
	Use string `json:"use"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

var jwkB64 = base64.RawURLEncoding

// AssertionJWK encodes pub, the public key of an OAuth client's assertions
// signed with alg (RS256, RS512 with an RSA key; ES384 with a P-384 key),
// as the JWK Qlik Cloud registers: {"alg","e","kid","kty":"RSA","n","use":"sig"}
// or {"alg":"ES384","crv":"P-384","kid","kty":"EC","use":"sig","x","y"}.
// It takes only public keys, so no private member can be written.
func AssertionJWK(pub crypto.PublicKey, kid, alg string) ([]byte, error) {
	j := assertionJWK{Alg: alg, Kid: kid, Use: "sig"}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg != "RS256" && alg != "RS512" {
			return nil, fmt.Errorf("an RSA key signs RS256 or RS512 assertions, not %q", alg)
		}
		if k == nil || k.N == nil {
			return nil, errors.New("the RSA public key is empty")
		}
		j.Kty, j.N, j.E = "RSA", jwkB64.EncodeToString(k.N.Bytes()), jwkB64.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P384() || alg != "ES384" {
			return nil, fmt.Errorf("an ECDSA key signs ES384 assertions with curve P-384 only")
		}
		raw, err := k.Bytes() // 0x04 || x || y
		if err != nil {
			return nil, fmt.Errorf("the ECDSA public key cannot be encoded: %w", err)
		}
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-384", jwkB64.EncodeToString(raw[1:49]), jwkB64.EncodeToString(raw[49:])
	default:
		return nil, fmt.Errorf("a %T cannot sign Qlik Cloud client assertions", pub)
	}
	return json.Marshal(j)
}

// ParseAssertionJWK reads one JWK (or a JWK Set holding one) as Qlik Cloud
// registers it for an OAuth client and returns its public key, "kid" and
// "alg". It refuses, naming the member: a private member, a missing or
// empty kid, an alg other than RS256, RS512 or ES384 or one that does not
// fit kty, "use" other than "sig", an RSA modulus under minRSABits bits or
// an even or small exponent, an EC key not on P-384. Errors never repeat key
// material.
func ParseAssertionJWK(data []byte, minRSABits int) (pub crypto.PublicKey, kid, alg string, err error) {
	if data, err = oneJWK(data, "one key"); err != nil {
		return nil, "", "", err
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil, "", "", errors.New("not a JSON Web Key: not a JSON object")
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := m[private]; ok {
			return nil, "", "", fmt.Errorf("%w (member %q): register the public key only", ErrPrivateJWK, private)
		}
	}
	var j assertionJWK
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, "", "", errors.New("not a JSON Web Key: a member is not a string")
	}
	switch {
	case j.Kid == "":
		return nil, "", "", errors.New(`the JWK has no "kid"; Qlik Cloud requires one, and the assertion's header names it`)
	case j.Use != "sig":
		return nil, "", "", fmt.Errorf(`the JWK's "use" is %q; Qlik Cloud requires "sig"`, j.Use)
	}
	switch j.Kty {
	case "RSA":
		if j.Alg != "RS256" && j.Alg != "RS512" {
			return nil, "", "", fmt.Errorf(`%w: an RSA JWK's "alg" is %q; Qlik Cloud takes RS256 or RS512`, ErrUnsupportedJWK, j.Alg)
		}
		n, errN := decodeUint(j.N, "n")
		e, errE := decodeUint(j.E, "e")
		if err := errors.Join(errN, errE); err != nil {
			return nil, "", "", err
		}
		if n.BitLen() < minRSABits {
			return nil, "", "", fmt.Errorf("%w: the RSA key has %d bits; Qlik Cloud needs at least %d", ErrUnsupportedJWK, n.BitLen(), minRSABits)
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64()%2 == 0 || e.Int64() > 1<<31-1 {
			return nil, "", "", fmt.Errorf("%w: the RSA key's exponent is not an odd number of at least 3", ErrUnsupportedJWK)
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, j.Kid, j.Alg, nil
	case "EC":
		if j.Alg != "ES384" || j.Crv != "P-384" {
			return nil, "", "", fmt.Errorf(`%w: an EC JWK has "alg" %q and "crv" %q; Qlik Cloud takes ES384 with P-384`, ErrUnsupportedJWK, j.Alg, j.Crv)
		}
		x, errX := decodeJWKBase64(jwkB64, j.X)
		y, errY := decodeJWKBase64(jwkB64, j.Y)
		if errX != nil || errY != nil || len(x) != 48 || len(y) != 48 {
			return nil, "", "", errors.New(`the EC JWK's "x" and "y" must be 48 bytes each, base64url without padding`)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), bytes.Join([][]byte{{4}, x, y}, nil))
		if err != nil {
			return nil, "", "", errors.New("the EC JWK's point is not on curve P-384")
		}
		return k, j.Kid, j.Alg, nil
	}
	return nil, "", "", fmt.Errorf(`%w: "kty" is %q; Qlik Cloud takes RSA or EC`, ErrUnsupportedJWK, j.Kty)
}

// oneJWK returns the JWK data holds: data itself, or the one key of a JWK
// Set; a set of another size is refused, the error ending "give " + give.
func oneJWK(data []byte, give string) ([]byte, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(data, &set) != nil {
		return nil, errors.New("not a JSON Web Key: the JSON does not parse")
	}
	if set.Keys == nil {
		return data, nil
	}
	if len(set.Keys) != 1 {
		return nil, fmt.Errorf("a JWK Set with %d keys; give %s", len(set.Keys), give)
	}
	return set.Keys[0], nil
}

// decodeUint reads an unsigned big-endian integer member, base64url without
// padding (decodeJWKBase64).
func decodeUint(s, name string) (*big.Int, error) {
	b, err := decodeJWKBase64(jwkB64, s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("the RSA JWK's %q is missing or not base64url of an unsigned integer", name)
	}
	return new(big.Int).SetBytes(b), nil
}
