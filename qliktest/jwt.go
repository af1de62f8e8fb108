package qliktest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha256" // RS256
	_ "crypto/sha512" // RS384, RS512
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// problem is why a token is refused; each emulator turns a kind into its
// own status and code.
type problem struct {
	kind   kind
	detail string
}

type kind int

const (
	kindMalformed kind = iota // not a compact JWS, bad base64 or JSON
	kindSignature             // alg, kid or signature
	kindClaims                // a claim missing or of the wrong type or value
	kindTime                  // expired, not yet valid, too long a lifetime
	kindIssuer                // iss or aud not this provider's
	kindReplay                // jti seen before
)

func refuse(k kind, format string, args ...any) *problem {
	return &problem{kind: k, detail: fmt.Sprintf(format, args...)}
}

// jwt is a token whose signature has been verified.
type jwt struct {
	header map[string]json.RawMessage
	claims map[string]json.RawMessage
}

var algHash = map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}

// verify parses a compact JWS, checks that its alg is one of algs and its
// signature verifies with pub, and returns its header and claims as raw JSON.
func verify(raw string, pub *rsa.PublicKey, algs ...string) (*jwt, *problem) {
	parts := strings.Split(raw, ".")
	switch len(parts) {
	case 3:
	case 5:
		return nil, refuse(kindMalformed, "encrypted tokens (JWE) are not accepted; send a signed JWT")
	default:
		return nil, refuse(kindMalformed, "the token is not a compact JWS (header.payload.signature)")
	}
	var t jwt
	for i, dst := range []*map[string]json.RawMessage{&t.header, &t.claims} {
		js, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, refuse(kindMalformed, "the token's %s is not base64url without padding", [...]string{"header", "payload"}[i])
		}
		if err := json.Unmarshal(js, dst); err != nil || *dst == nil {
			return nil, refuse(kindMalformed, "the token's %s is not a JSON object", [...]string{"header", "payload"}[i])
		}
	}
	alg, ok := t.string("header", "alg")
	if !ok {
		return nil, refuse(kindSignature, "the header has no alg")
	}
	hash, known := algHash[alg]
	if !known || !contains(algs, alg) {
		return nil, refuse(kindSignature, "alg %q is not accepted; use %s", alg, strings.Join(algs, ", "))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, refuse(kindMalformed, "the token's signature is not base64url without padding")
	}
	h := hash.New()
	h.Write([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, hash, h.Sum(nil), sig); err != nil {
		return nil, refuse(kindSignature, "the signature does not verify with the configured certificate")
	}
	return &t, nil
}

// string returns a string member of the header or the claims.
func (t *jwt) string(part, name string) (string, bool) {
	m := t.claims
	if part == "header" {
		m = t.header
	}
	v, ok := m[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// requireString returns a claim that must be a non-empty JSON string.
func (t *jwt) requireString(name string) (string, *problem) {
	v, ok := t.claims[name]
	if !ok {
		return "", refuse(kindClaims, "Missing required claim: %s", name)
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", refuse(kindClaims, "claim %s must be a JSON string, got %s", name, v)
	}
	if s == "" {
		return "", refuse(kindClaims, "claim %s is empty", name)
	}
	return s, nil
}

// date returns a NumericDate claim: whole seconds as a JSON number. ok is
// false when the claim is absent.
func (t *jwt) date(name string) (time.Time, bool, *problem) {
	v, ok := t.claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	s := string(bytes.TrimSpace(v))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, true, refuse(kindClaims, "claim %s must be a NumericDate in whole seconds, got %s", name, v)
	}
	return time.Unix(n, 0), true, nil
}

// requireDate returns a NumericDate claim that must be present.
func (t *jwt) requireDate(name string) (time.Time, *problem) {
	d, ok, p := t.date(name)
	if p == nil && !ok {
		p = refuse(kindClaims, "Missing required claim: %s", name)
	}
	return d, p
}

// stringArray checks that an optional claim is an array of strings.
func (t *jwt) stringArray(name string) ([]string, *problem) {
	v, ok := t.claims[name]
	if !ok {
		return nil, nil
	}
	var a []string
	if json.Unmarshal(v, &a) != nil || a == nil {
		return nil, refuse(kindClaims, "claim %s must be an array of strings, got %s", name, v)
	}
	return a, nil
}

// timeWindow checks exp and nbf against now with a tolerance.
func timeWindow(now time.Time, exp, nbf time.Time, hasExp, hasNbf bool, tolerance time.Duration) *problem {
	if hasExp && !now.Before(exp.Add(tolerance)) {
		return refuse(kindTime, "the token expired at %s (now %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if hasNbf && now.Add(tolerance).Before(nbf) {
		return refuse(kindTime, "the token is not valid before %s (now %s)", nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
