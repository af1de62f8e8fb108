package engine

// This file writes and reads the JSON Web Keys qsjwt's verifiers and
// qs-jwt's jwk command take, on the standard library alone, as
// assertionjwk.go does for OAuth clients: jwx's jwk package would link
// net/http and crypto/tls (through httprc) into every program that imports
// qsjwt (doc.go).

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// PublicJWK encodes an RSA public key as a JSON Web Key for RS256
// signatures: {"alg":"RS256","e","kid","kty":"RSA","n","use":"sig"}, the
// members in that order, byte for byte what jwx v2 wrote for it before
// (json.Marshal's escaping of kid). It takes only a public key, so a private
// member can never be written.
func PublicJWK(pub *rsa.PublicKey, kid string) ([]byte, error) {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 {
		return nil, errors.New("the RSA public key is empty")
	}
	if pub.E <= 0 {
		return nil, errors.New("the RSA public key's exponent is not positive")
	}
	return AssertionJWK(pub, kid, "RS256")
}

// Errors of ParseJWK.
var (
	// ErrPrivateJWK: the JWK holds a private or secret key.
	ErrPrivateJWK = errors.New("private key given where the public key or certificate belongs")
	// ErrUnsupportedJWK: the JWK is for encryption or another algorithm.
	ErrUnsupportedJWK = errors.New("unsupported JWK")
)

// jwkPrivateMembers are the members of a private or secret JWK (RFC 7518
// section 6.3.2 for RSA, 6.2.2 for EC, 6.4 for "oct"; RFC 8037 for OKP).
var jwkPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// jwkStringMembers are the registered members (RFC 7517 section 4, RFC 7518
// section 6) ParseJWK reads, each a JSON string when present. "key_ops" and
// "x5c", arrays, are read apart.
var jwkStringMembers = []string{"kty", "use", "alg", "kid", "x5u", "x5t", "x5t#S256", "n", "e", "crv", "x", "y"}

// ParseJWK reads one JSON Web Key, or a JWK Set holding exactly one key, and
// returns its public key: an *rsa.PublicKey (kty "RSA"), an
// *ecdsa.PublicKey (kty "EC", crv P-256, P-384 or P-521), an
// ed25519.PublicKey (kty "OKP", crv Ed25519) or an *ecdh.PublicKey (kty
// "OKP", crv X25519), for the caller to judge; an RSA key's size and its
// exponent's oddness and lower bound are left to the caller too. A JWK
// holding a private member (d, p, q, dp, dq, qi, oth or k, in any case) and
// a symmetric ("oct") key give ErrPrivateJWK; a key meant for encryption
// ("use" other than "sig") or for an algorithm other than RS256/RS384/RS512
// gives ErrUnsupportedJWK, as does an RSA exponent over 2^31-1, which
// crypto/rsa does not verify with; anything else that does not parse,
// another error. Errors never contain key material.
//
// It is deliberately stricter than jwx v2, which read these keys before,
// where RFC 7517, 7518 and 8037 say MUST or jwx read something else than
// the JSON says. It refuses:
//
//   - n, e, x, y, x5t and x5t#S256 that are not base64url without
//     padding, or hold a line break (which encoding/base64 skips) or a last
//     character with unused bits set (jwx also took padded and standard
//     base64, and all of these); n and e with leading zero octets are
//     read, though RFC 7518 section 6.3.1 asks for the fewest octets, since
//     some tools write them and the value is the same;
//   - an EC x or y that is not the full size of a coordinate of the curve
//     (RFC 7518 section 6.2.1.2), a point not on the curve and an OKP x of
//     the wrong size (jwx returned such points and short keys as given);
//   - an RSA exponent of zero (the caller refused it before) or over
//     2^31-1 (jwx returned one, which crypto/rsa does not verify with, and
//     truncated one over 63 bits to its low 64 bits);
//   - a member given twice (RFC 7517 section 4 allows refusing; jwx took the
//     last "n" but refused a second "kty") and a member whose name differs
//     from a registered one only in case, such as "KTY" or "Use" (jwx chose
//     the key type by "KTY" but read the key from "kty");
//   - a registered member of the wrong JSON type: kty, use, alg, kid, x5u,
//     x5t, x5t#S256, n, e, crv, x and y must be strings (jwx took null),
//     key_ops an array of distinct strings;
//   - an x5t or x5t#S256 that is not of a SHA-1 or SHA-256 digest's size,
//     and an x5c that is not an array of DER certificates in base64 with
//     padding whose first holds the JWK's key (RFC 7517 sections 4.7 to
//     4.9; jwx read x5c as any strings);
//   - private members other than d and k (an RSA JWK with "p" but no "d"
//     read as a public key in jwx).
func ParseJWK(data []byte) (crypto.PublicKey, error) {
	data, err := oneJWK(data, "the one key Qlik verifies with")
	if err != nil {
		return nil, err
	}
	// Refuse private and secret keys before checking any other member, and
	// read "use" and "alg" as encoding/json matches names
	// (case-insensitively, the last match winning), as before the rewrite:
	// a JWK refused for these reasons is refused with the same error.
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
	members, err := jwkMembers(data)
	if err != nil {
		return nil, err
	}
	private := hint.D != nil || hint.K != nil || hint.Kty == "oct"
	for _, m := range members {
		for _, p := range jwkPrivateMembers {
			private = private || strings.EqualFold(m.name, p)
		}
	}
	switch {
	case private:
		return nil, fmt.Errorf("%w (a JWK with kty %q holding a private or secret key)", ErrPrivateJWK, hint.Kty)
	case hint.Use != "" && hint.Use != "sig":
		return nil, fmt.Errorf("%w: the key is for %q, not for signatures (\"use\": \"sig\")", ErrUnsupportedJWK, hint.Use)
	case hint.Alg != "" && hint.Alg != "RS256" && hint.Alg != "RS384" && hint.Alg != "RS512":
		return nil, fmt.Errorf("%w: the key is for algorithm %q; Qlik verifies RS256, RS384 or RS512", ErrUnsupportedJWK, hint.Alg)
	}

	m, err := checkJWKMembers(members)
	if err != nil {
		return nil, err
	}
	str := func(name string) string {
		var s string
		_ = json.Unmarshal(m[name], &s) // checkJWKMembers checked it is a string
		return s
	}
	var pub crypto.PublicKey
	switch kty := str("kty"); kty {
	case "RSA":
		pub, err = parseRSAJWK(str("n"), str("e"))
	case "EC":
		pub, err = parseECJWK(str("crv"), str("x"), str("y"))
	case "OKP":
		pub, err = parseOKPJWK(str("crv"), str("x"))
	default:
		err = fmt.Errorf("not a usable JSON Web Key (kty %q): qsjwt reads kty RSA, EC and OKP", kty)
	}
	if err != nil {
		return nil, err
	}
	if err := checkJWKCertificates(m, pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// jwkMember is one member of a JWK, in the order of the JSON.
type jwkMember struct {
	name  string
	value json.RawMessage
}

// jwkMembers returns the members of the JSON object data, which
// json.Unmarshal has checked is valid JSON.
func jwkMembers(data []byte) ([]jwkMember, error) {
	errNotObject := errors.New("not a JSON Web Key: the key is not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	var members []jwkMember
	for dec.More() {
		tok, err := dec.Token()
		name, isName := tok.(string)
		if err != nil || !isName {
			return nil, errNotObject
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, errNotObject
		}
		members = append(members, jwkMember{name, value})
	}
	return members, nil
}

// checkJWKMembers refuses a member given twice, a member whose name differs
// from a registered one only in case, and a registered member of the wrong
// type, and returns the members by name.
func checkJWKMembers(members []jwkMember) (map[string]json.RawMessage, error) {
	registered := append(append([]string{"key_ops", "x5c"}, jwkStringMembers...), jwkPrivateMembers...)
	m := make(map[string]json.RawMessage, len(members))
	for _, mem := range members {
		for _, r := range registered {
			if mem.name != r && strings.EqualFold(mem.name, r) {
				return nil, fmt.Errorf("not a JSON Web Key: the member %q differs from %q only in case", mem.name, r)
			}
		}
		if _, twice := m[mem.name]; twice {
			return nil, fmt.Errorf("not a JSON Web Key: the member %q is given twice", mem.name)
		}
		m[mem.name] = mem.value
	}
	for _, name := range jwkStringMembers {
		if v, ok := m[name]; ok && !isJSONString(v) {
			return nil, fmt.Errorf("not a JSON Web Key: the member %q is not a string", name)
		}
	}
	if v, ok := m["key_ops"]; ok {
		var ops []*string
		if err := json.Unmarshal(v, &ops); err != nil || ops == nil {
			return nil, errors.New(`not a JSON Web Key: "key_ops" is not an array of strings`)
		}
		seen := make(map[string]bool, len(ops))
		for _, op := range ops {
			if op == nil || seen[*op] {
				return nil, errors.New(`not a JSON Web Key: "key_ops" is not an array of distinct strings`)
			}
			seen[*op] = true
		}
	}
	for _, digest := range []struct {
		name string
		size int
	}{{"x5t", 20}, {"x5t#S256", 32}} {
		name, size := digest.name, digest.size
		if v, ok := m[name]; ok {
			var s string
			_ = json.Unmarshal(v, &s)
			if b, err := decodeJWKBase64(jwkB64, s); err != nil || len(b) != size {
				return nil, fmt.Errorf("not a JSON Web Key: %q is not base64url of a %d-byte certificate digest", name, size)
			}
		}
	}
	return m, nil
}

// isJSONString reports whether v, valid JSON, is a string.
func isJSONString(v json.RawMessage) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && v[0] == '"'
}

// parseRSAJWK reads an RSA JWK's n and e (RFC 7518 section 6.3.1).
func parseRSAJWK(n64, e64 string) (*rsa.PublicKey, error) {
	n, errN := positiveUint(n64, "n")
	e, errE := positiveUint(e64, "e")
	if err := errors.Join(errN, errE); err != nil {
		return nil, err
	}
	if !e.IsInt64() || e.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("%w: the RSA key's exponent is larger than 2^31-1, which crypto/rsa does not verify with", ErrUnsupportedJWK)
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// decodeJWKBase64 decodes s, base64url without padding (enc jwkB64) or
// base64 with padding (enc base64.StdEncoding), refusing what
// encoding/base64 would skip, CR and LF (RFC 7515 section 2: no line
// breaks, whitespace or other characters), and a last character whose
// unused bits are not zero.
func decodeJWKBase64(enc *base64.Encoding, s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("a line break in base64")
	}
	return enc.Strict().DecodeString(s)
}

// positiveUint reads an RSA member as RFC 7518 section 6.3.1 writes it
// (decodeUint), and refuses zero. Leading zero octets, which the RFC asks
// writers to leave out, are read: some tools write them (a 257-octet n),
// and the value is the same.
func positiveUint(s, name string) (*big.Int, error) {
	v, err := decodeUint(s, name)
	if err == nil && v.Sign() == 0 {
		return nil, fmt.Errorf("the RSA JWK's %q is zero", name)
	}
	return v, err
}

// jwkCurve returns the EC curve of a "crv" ParseJWK reads. It is a function,
// not a map, since elliptic.P256() and its kin build their parameters on
// first use, and a package-level map would build them on every start of
// every program that imports qsjwt.
func jwkCurve(crv string) (elliptic.Curve, bool) {
	switch crv {
	case "P-256":
		return elliptic.P256(), true
	case "P-384":
		return elliptic.P384(), true
	case "P-521":
		return elliptic.P521(), true
	}
	return nil, false
}

// parseECJWK reads an EC JWK's point (RFC 7518 section 6.2.1).
func parseECJWK(crv, x64, y64 string) (*ecdsa.PublicKey, error) {
	curve, ok := jwkCurve(crv)
	if !ok {
		return nil, fmt.Errorf("not a usable JSON Web Key (kty \"EC\"): crv %q; qsjwt reads P-256, P-384 and P-521", crv)
	}
	size := (curve.Params().BitSize + 7) / 8
	x, errX := decodeJWKBase64(jwkB64, x64)
	y, errY := decodeJWKBase64(jwkB64, y64)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, fmt.Errorf(`the EC JWK's "x" and "y" must be %d bytes each, base64url without padding`, size)
	}
	k, err := ecdsa.ParseUncompressedPublicKey(curve, bytes.Join([][]byte{{4}, x, y}, nil))
	if err != nil {
		return nil, fmt.Errorf("the EC JWK's point is not on curve %s", crv)
	}
	return k, nil
}

// parseOKPJWK reads an OKP JWK's x (RFC 8037 section 2).
func parseOKPJWK(crv, x64 string) (crypto.PublicKey, error) {
	if crv != "Ed25519" && crv != "X25519" {
		return nil, fmt.Errorf("not a usable JSON Web Key (kty \"OKP\"): crv %q; qsjwt reads Ed25519 and X25519", crv)
	}
	x, err := decodeJWKBase64(jwkB64, x64)
	if err != nil || len(x) != 32 {
		return nil, fmt.Errorf(`the %s JWK's "x" must be 32 bytes, base64url without padding`, crv)
	}
	if crv == "Ed25519" {
		return ed25519.PublicKey(x), nil
	}
	return ecdh.X25519().NewPublicKey(x)
}

// checkJWKCertificates refuses an "x5c" that is not an array of base64 DER
// certificates (standard base64 with padding, RFC 7517 section 4.7), or
// whose first certificate holds another key than pub.
func checkJWKCertificates(m map[string]json.RawMessage, pub crypto.PublicKey) error {
	v, ok := m["x5c"]
	if !ok {
		return nil
	}
	var chain []*string
	if err := json.Unmarshal(v, &chain); err != nil || chain == nil {
		return errors.New(`not a JSON Web Key: "x5c" is not an array of strings`)
	}
	for i, c := range chain {
		if c == nil {
			return errors.New(`not a JSON Web Key: "x5c" is not an array of strings`)
		}
		der, err := decodeJWKBase64(base64.StdEncoding, *c)
		if err != nil {
			return fmt.Errorf(`the JWK's "x5c" certificate %d is not base64 (with padding)`, i)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf(`the JWK's "x5c" certificate %d does not parse`, i)
		}
		if i == 0 {
			k, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !k.Equal(pub) {
				return errors.New(`the JWK's first "x5c" certificate holds another key than the JWK`)
			}
		}
	}
	return nil
}
