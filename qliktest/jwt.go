package qliktest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha256" // RS256
	_ "crypto/sha512" // RS384, RS512
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Limits shared by both emulators; docs/qlik-rules.md gives each its row.
const (
	maxTokenSize      = 64 << 10      // Q-FORM-2, C-FORM-2
	minRSABits        = 2048          // Q-KEY-1, C-KEY-1
	maxClockTolerance = 2 * time.Hour // Q-TIME-5, C-TIME-6: clockToleranceSec at most 7200
)

// verify parses a compact JWS, checks that its alg is one of algs and its
// signature verifies with pub over the exact bytes received, and returns
// its header and claims as raw JSON.
func verify(raw string, pub *rsa.PublicKey, algs ...string) (*jwt, *problem) {
	if len(raw) > maxTokenSize {
		return nil, refuse(kindMalformed, "the token is %d bytes, over the %d bytes accepted", len(raw), maxTokenSize)
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return !isBase64URL(r) && r != '.' }); i >= 0 {
		return nil, refuse(kindMalformed, "the token has a character outside the base64url alphabet at byte %d", i)
	}
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
		part := [...]string{"header", "payload"}[i]
		js, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		if err != nil {
			return nil, refuse(kindMalformed, "the token's %s is not base64url without padding", part)
		}
		m, dup, err := parseObject(js)
		switch {
		case err != nil:
			return nil, refuse(kindMalformed, "the token's %s is not a JSON object", part)
		case dup != "":
			return nil, refuse(kindMalformed, "the token's %s gives %q more than once", part, dup)
		}
		*dst = m
	}
	for _, ext := range []string{"crit", "b64"} {
		if _, ok := t.header[ext]; ok {
			return nil, refuse(kindMalformed, "the header asks for a JWS extension (%s), which is not supported", ext)
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
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
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

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// parseObject reads a JSON object member by member, so that a name given
// twice is seen (encoding/json would keep the last silently); dup is the
// first such name.
func parseObject(js []byte) (m map[string]json.RawMessage, dup string, err error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", errors.New("not an object")
	}
	m = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", err
		}
		if _, seen := m[name]; seen && dup == "" {
			dup = name
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errors.New("more after the object")
	}
	return m, dup, nil
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

// date returns a NumericDate claim: whole seconds as a JSON integer, no
// fraction or exponent (Q-TIME-2, C-TIME-2). ok is false when the claim is
// absent.
func (t *jwt) date(name string) (time.Time, bool, *problem) {
	v, ok := t.claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	s := string(bytes.TrimSpace(v))
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) || err == nil && (n > maxDateSeconds || n < -maxDateSeconds) {
		return time.Time{}, true, refuse(kindClaims, "claim %s is beyond the range of a date (at most 2^53-1 seconds from 1970), got %s", name, v)
	}
	if err != nil {
		return time.Time{}, true, refuse(kindClaims, "claim %s must be a NumericDate in whole seconds, got %s", name, v)
	}
	return time.Unix(n, 0), true, nil
}

// maxDateSeconds is the largest NumericDate taken (Q-TIME-6, C-TIME-7):
// 2^53-1, the largest integer JavaScript holds exactly. A larger one would
// wrap in time arithmetic and read as a date in the past.
const maxDateSeconds = 1<<53 - 1

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

// timeWindow checks exp and nbf against now with a tolerance, and that nbf
// comes before exp (Q-TIME-3, C-TIME-4).
func timeWindow(now time.Time, exp, nbf time.Time, hasExp, hasNbf bool, tolerance time.Duration) *problem {
	if hasExp && hasNbf && !exp.After(nbf) {
		return refuse(kindTime, "exp %s is not after nbf %s: the token is never valid", exp.UTC().Format(time.RFC3339), nbf.UTC().Format(time.RFC3339))
	}
	if hasExp && !now.Before(exp.Add(tolerance)) {
		return refuse(kindTime, "the token expired at %s (now %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if hasNbf && now.Add(tolerance).Before(nbf) {
		return refuse(kindTime, "the token is not valid before %s (now %s)", nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
