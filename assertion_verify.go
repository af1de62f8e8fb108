package qsjwt

// This file decides a Qlik Cloud OAuth client assertion as the tenant's
// token endpoint does (docs/qlik-rules.md, O-* rows), over the exact bytes
// received.

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// maxAssertionSize bounds the work a token can cause, as for the other
// variants (C-FORM-2).
const maxAssertionSize = 64 << 10

// VerifyClientAssertion decides token, a client assertion sent to the
// tenant's POST /oauth/token, as Qlik Cloud does for the OAuth client
// clientID of the tenant at tenantURL that registered jwk, the public key
// as a JSON Web Key with its "kid" and "alg" ([ClientAssertion.PublicJWK]
// writes one). It returns the assertion's jti and times, or a
// [*VerifyError] naming every problem: form, alg (RS256, RS512 or ES384,
// and the JWK's), kid (the JWK's), the signature over the exact bytes,
// iss = sub = clientID, aud = https://<tenant host>/oauth/token exactly, a
// non-empty string jti, iat and exp as whole seconds with exp - iat at
// most five minutes, expiry with the clock skew. Whether a jti was seen
// before only the tenant knows. The options are the verifiers':
// [WithClockSkew] (default five seconds) and [WithClock]. A parameter or
// option Qlik would refuse gives an [*OptionError] instead.
func VerifyClientAssertion(token string, jwk []byte, clientID, tenantURL string, opts ...VerifierOption) (Token, error) {
	var cfg cloudConfig
	pub, kid, alg, err := engine.ParseAssertionJWK(jwk, MinRSABits)
	if err != nil {
		cfg.failWith("jwk", keyError(nil, "%v", err))
	}
	if why := checkValue(clientID); why != "" {
		cfg.fail("clientID", "the client ID %s; give the OAuth client's ID exactly", why)
	}
	aud, why := assertionAudience(tenantURL)
	if why != "" {
		cfg.fail("tenantURL", "%s", why)
	}
	for _, o := range opts {
		if o != nil {
			o.applyCloudVerifier(&cfg)
		}
	}
	if !cfg.skewGiven {
		cfg.skew = defaultClockSkew
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return Token{}, err
	}
	a := assertionCheck{VerifyError: VerifyError{Variant: "Qlik Cloud OAuth"}}
	tok := a.run(token, pub, kid, alg, clientID, aud, cfg.now(), cfg.skew)
	for _, p := range a.Problems {
		if !p.Warning {
			return Token{}, &a.VerifyError
		}
	}
	return tok, nil
}

// assertionCheck collects the problems of one assertion.
type assertionCheck struct {
	VerifyError
	claims map[string]string
}

func (a *assertionCheck) refuse(claim, format string, args ...any) {
	a.Problems = append(a.Problems, Problem{Claim: claim, Rule: fmt.Sprintf(format, args...)})
}

func (a *assertionCheck) warn(claim, format string, args ...any) {
	a.Problems = append(a.Problems, Problem{Claim: claim, Rule: fmt.Sprintf(format, args...), Warning: true})
}

func (a *assertionCheck) run(token string, pub any, kid, alg, clientID, aud string, now time.Time, skew time.Duration) Token {
	if len(token) > maxAssertionSize {
		a.refuse("token", "is %d bytes, over the %d accepted", len(token), maxAssertionSize)
		return Token{}
	}
	c, err := engine.ParseCompact(token)
	if err != nil {
		a.refuse("token", "%v", err)
		return Token{}
	}
	header, hdups, herr := jsonMembers(c.Header)
	claims, cdups, cerr := jsonMembers(c.Payload)
	if herr != nil {
		a.refuse("header", "is not a JSON object")
	}
	if cerr != nil {
		a.refuse("payload", "is not a JSON object")
	}
	for _, d := range hdups {
		a.refuse("header."+d, "is given more than once; give each name once")
	}
	for _, d := range cdups {
		a.refuse(d, "is given more than once; give each name once")
	}
	if herr != nil {
		return Token{}
	}
	for _, ext := range []string{"crit", "b64"} {
		if _, ok := header[ext]; ok {
			a.refuse("header."+ext, "asks for a JWS extension, which Qlik does not support")
		}
	}
	gotAlg, okAlg := jsonString(header["alg"])
	switch {
	case !okAlg:
		a.refuse("header.alg", "is missing or not a string; the OAuth client's key signs %s", alg)
	case gotAlg != alg:
		a.refuse("header.alg", "is %q; the JWK registered with the OAuth client (kid %q) is for %s, and Qlik Cloud takes RS256, RS512 or ES384 only as the key's alg says", gotAlg, kid, alg)
	}
	switch gotKid, ok := jsonString(header["kid"]); {
	case !ok || gotKid == "":
		a.refuse("header.kid", "is missing or not a string; Qlik Cloud requires the kid of a key registered with the OAuth client (%q)", kid)
	case gotKid != kid:
		a.refuse("header.kid", "is %q; the key registered with the OAuth client has kid %q", gotKid, kid)
	}
	if okAlg && gotAlg == alg && len(hdups) == 0 {
		var verr error
		switch k := pub.(type) {
		case *rsa.PublicKey:
			verr = c.VerifyRSA(alg, []string{"RS256", "RS512"}, k)
		case *ecdsa.PublicKey:
			verr = c.VerifyES384(k)
		}
		if verr != nil {
			a.refuse("signature", "does not verify with the registered key (kid %q, %s): the assertion was changed after it was signed, or signed with another key", kid, describeKey(pub))
		} else {
			a.SignatureVerified = true
		}
	}
	if cerr != nil {
		return Token{}
	}
	a.claimsRead, a.claims = true, claims
	for _, n := range []string{"iss", "sub"} {
		switch v, ok := a.str(n); {
		case !ok:
		case v != clientID:
			a.refuse(n, "is %q; Qlik Cloud requires the OAuth client's ID, %q", v, clientID)
		}
	}
	if raw, ok := claims["aud"]; ok && strings.HasPrefix(raw, "[") {
		a.refuse("aud", "is an array; give the string %q", aud)
	} else if v, ok := a.str("aud"); ok && v != aud {
		a.refuse("aud", "is %q; Qlik Cloud requires the token endpoint exactly, %q (no trailing slash)", v, aud)
	}
	jti, okJti := a.str("jti")
	if okJti && jti == "" {
		a.refuse("jti", "is empty; give a new UUID per assertion")
	} else if okJti && !isUUID(jti) {
		a.warn("jti", "is not a UUID; Qlik Cloud asks for a new UUID per assertion")
	}
	iat, okIat := a.date("iat")
	exp, okExp := a.date("exp")
	if nbf, ok := a.date("nbf"); ok && nbf.After(now.Add(skew)) {
		a.refuse("nbf", "is %s, in the future: the assertion is not valid yet (clock skew %v)", formatTime(nbf), skew)
	}
	if okIat && okExp {
		switch d := exp.Sub(iat); {
		case d <= 0:
			a.refuse("exp", "is not after iat: the assertion is never valid")
		case d > assertionMaxLifetime:
			a.refuse("exp", "is %d s after iat; Qlik Cloud allows at most %d s", int64(d/time.Second), int64(assertionMaxLifetime/time.Second))
		}
	}
	if okExp && !now.Before(exp.Add(skew)) {
		a.refuse("exp", "expired at %s; now is %s (clock skew %v)", formatTime(exp), formatTime(now), skew)
	}
	if okIat && iat.After(now.Add(skew)) {
		a.warn("iat", "is %s, in the future; now is %s (clock skew %v): the signer's clock is ahead", formatTime(iat), formatTime(now), skew)
	}
	return Token{Raw: token, ID: jti, IssuedAt: iat, ExpiresAt: exp}
}

// str returns a required string claim, reporting it missing or not a string.
func (a *assertionCheck) str(name string) (string, bool) {
	raw, ok := a.claims[name]
	if !ok {
		a.refuse(name, "is missing; Qlik Cloud requires it in a client assertion")
		return "", false
	}
	s, ok := jsonString(raw)
	if !ok {
		a.refuse(name, "is not a string")
	}
	return s, ok
}

// date returns a NumericDate claim (iat and exp required), whole seconds.
func (a *assertionCheck) date(name string) (time.Time, bool) {
	raw, ok := a.claims[name]
	if !ok {
		if name != "nbf" {
			a.refuse(name, "is missing; Qlik Cloud requires iat and exp")
		}
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < minNumericDate || n > maxNumericDate {
		a.refuse(name, "is not a NumericDate in whole seconds (a JSON integer)")
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// jsonMembers reads a JSON object with the verifiers' reader (jsonobject.go):
// its members' raw values by name, and every name given more than once.
func jsonMembers(js []byte) (map[string]string, []string, error) {
	o, err := parseObject(string(js))
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]string, len(o.members))
	var dups []string
	for _, mb := range o.members {
		m[mb.name] = mb.raw
		if mb.times > 1 {
			dups = append(dups, mb.name)
		}
	}
	return m, dups, nil
}

// isUUID reports whether s has the 8-4-4-4-12 hex form of a UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}
