// Package engine is the one place qsjwt touches its JWT engine
// (github.com/lestrrat-go/jwx/v2). Everything else in the module speaks plain
// Go types, so moving to another engine (jwx v3) changes this package only.
package engine

import (
	"crypto"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Claim is one claim of a token to sign. Values are JSON values: string,
// bool, []string, numbers, or time.Time for NumericDate claims (iat, nbf,
// exp), which are written as whole seconds.
type Claim struct {
	Name  string
	Value any
}

// Sign builds a JWT from claims, in order, and signs it with key under alg.
// The header carries alg, typ "JWT" and, when kid is not empty, kid. An "aud"
// claim given as a string is written as a plain string, never an array.
//
// Sign builds fresh headers for every call, so it is safe for concurrent use
// with one key; it changes no process-wide jwx setting.
func Sign(alg string, key crypto.Signer, kid string, claims []Claim) ([]byte, error) {
	tok := jwt.New()
	for _, c := range claims {
		if why := CheckClaimName(c.Name); why != "" {
			return nil, fmt.Errorf("claim name %q %s", c.Name, why)
		}
		v := c.Value
		if t, ok := v.(time.Time); ok && t.Nanosecond() != 0 {
			v = t.Truncate(time.Second) // only then: a new value costs an allocation
		}
		if err := tok.Set(c.Name, v); err != nil {
			return nil, fmt.Errorf("claim %q: %w", c.Name, err)
		}
	}
	tok.Options().Enable(jwt.FlattenAudience)

	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return nil, err
	}
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			return nil, err
		}
	}
	// What jwt.Sign does, without its serializer and option conversions
	// (12 allocations per token): marshal the claims, sign them as a JWS.
	// The bytes are the same, since typ is already set; TestJWXYardstick in
	// bench_test.go checks it.
	payload, err := json.Marshal(tok)
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), key, jws.WithProtectedHeaders(hdr)))
}

// CheckClaimName returns why name cannot be a claim name, or "" when it can.
//
// jwx v2 writes private claim names into the JSON without escaping them, so
// a name holding a quote could smuggle in another claim (the name
// `x":"1","userId` makes a second "userId"). Names with a quote, a backslash
// or a control character are therefore refused here, before jwx sees them.
func CheckClaimName(name string) string {
	for _, r := range name {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return "contains a quote, a backslash, a control character or invalid UTF-8"
		}
	}
	return ""
}
