package qsjwt

import (
	"crypto"
	"fmt"
	"slices"
	"time"
)

// QSEoWVerifier decides whether a QSEoW virtual proxy with JWT
// authentication would accept a token. Make one with [NewQSEoWVerifier]; it
// is immutable and safe for concurrent use.
type QSEoWVerifier struct {
	cfg qseowConfig
}

// QSEoWClaims are the claims of a token a QSEoW virtual proxy accepts.
type QSEoWClaims struct {
	// QSEoWUser holds the user as the proxy reads it: UserID and
	// UserDirectory from the configured claims, Name ("name") and Email
	// ("email") when they are strings, Groups from the groups claim when it
	// is an array of strings, and in Attributes every other claim (iss,
	// sub, jti and the like included): strings, booleans, []string for an
	// array of strings, json.Number for numbers.
	QSEoWUser
	// Audience is "aud" when it is a string.
	Audience string
	// Algorithm is the header's "alg".
	Algorithm Algorithm
	// IssuedAt, NotBefore and ExpiresAt are iat, nbf and exp; zero when
	// absent.
	IssuedAt, NotBefore, ExpiresAt time.Time
	// Warnings are the problems that do not make the proxy refuse the
	// token, e.g. a token without exp.
	Warnings []Problem
}

// NewQSEoWVerifier checks the key and the options and returns a verifier
// that decides as the virtual proxy they describe would.
//
// key is the public key of the proxy's "JWT certificate": the
// *x509.Certificate itself (from [ParseCertificate]), or its *rsa.PublicKey
// or rsa.PublicKey (from [ParsePublicKey] or [ParseJWK]). A private key is
// refused: a verifier needs only the public half. The options:
//
//   - [WithAudience]: the proxy's "JWT audience"; when given, "aud" must be
//     exactly this string. Without it, "aud" is not checked, as by the proxy.
//   - [WithUserIDClaim], [WithUserDirectoryClaim], [WithGroupsClaim]: the
//     claim names, defaults as for [NewQSEoW].
//   - [WithClockSkew] (default five seconds) and [WithClock].
//
// The shared options configure a [QSEoW] builder too, so one list of them
// serves both. The verifier accepts RS256, RS384 and RS512, as the proxy,
// and sets no maximum lifetime. Every problem is reported at once, each an
// [*OptionError] naming the option (or "key") that fixes it. Nil options
// are ignored.
func NewQSEoWVerifier(key crypto.PublicKey, opts ...QSEoWVerifierOption) (*QSEoWVerifier, error) {
	cfg := defaultQSEoWConfig()
	for _, o := range opts {
		if o != nil {
			o.applyQSEoWVerifier(&cfg)
		}
	}
	cfg.checkClaimNames()
	if err := cfg.finishVerifier(key); err != nil {
		return nil, err
	}
	return &QSEoWVerifier{cfg: cfg}, nil
}

// Verify decides whether the virtual proxy would accept token, and returns
// its claims when it would. When it would not, the claims are nil and the
// error is a [*VerifyError] listing every problem. The rules:
//
//   - form: a compact JWS of at most 64 KiB, strict base64url (no padding,
//     no white space inside); no JWE, no JWS JSON serialization, no "crit"
//     or "b64" header, no name given twice;
//   - "alg" RS256, RS384 or RS512 (never "none" nor HS*), and a signature
//     that verifies with the key over the exact bytes received;
//   - the user ID and user directory claims: strings, not empty, no
//     leading or trailing white space, no backslash;
//   - "aud" exactly the configured audience, as a string, when one is
//     configured;
//   - exp and nbf honoured when present, with the clock skew; iat, nbf and
//     exp whole-second NumericDates within 2^53-1 seconds of 1970 when
//     present, nbf before exp.
//
// Warnings (on the claims, or beside the problems) flag what the proxy
// accepts but probably should not get: no exp, iat in the future, a groups
// claim that is not an array of non-empty strings.
//
// docs/qlik-rules.md in the repository states each rule with its source.
func (v *QSEoWVerifier) Verify(token string) (*QSEoWClaims, error) {
	cfg := &v.cfg
	c := start("QSEoW", "the virtual proxy", token, qseowAlgNames, &cfg.common)
	if !c.read {
		return nil, c.err()
	}
	cl := &QSEoWClaims{Algorithm: Algorithm(c.alg)}
	cl.UserID = c.userClaim(cfg.userIDClaim, "WithUserIDClaim", "JWT attribute for user ID", "QSEoWUser.UserID")
	cl.UserDirectory = c.userClaim(cfg.userDirClaim, "WithUserDirectoryClaim", "JWT attribute for user directory", "QSEoWUser.UserDirectory")

	if cfg.audience != "" {
		cl.Audience = c.exact(expected{field: "aud", what: "its JWT audience", want: cfg.audience, option: "WithAudience"})
	} else if raw, ok := c.p.claims.get("aud"); ok {
		cl.Audience, _ = jsonString(raw) // not checked: no audience is configured
	}

	t := c.times([3]string{})
	cl.IssuedAt, cl.NotBefore, cl.ExpiresAt = t.iat, t.nbf, t.exp
	if !c.p.claims.has("exp") {
		c.warn("exp", "", "is missing: the token never expires; the proxy honours exp when present, so always set it")
	}

	known := [9]string{cfg.userIDClaim, cfg.userDirClaim, "aud", "iat", "nbf", "exp"}
	n := 6
	if raw, ok := c.p.claims.get(cfg.groupsClaim); ok {
		if groups, ok := jsonStrings(raw); ok {
			cl.Groups = groups
			c.claimError(checkGroups(cfg.groupsClaim, "QSEoWUser.Groups", groups), false)
			known[n], n = cfg.groupsClaim, n+1
		} else {
			c.warn(cfg.groupsClaim, "WithGroupsClaim", "is %s; the attribute mapping reads groups from an array of strings", describeJSON(raw))
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &cl.Name}, {"email", &cl.Email}} {
		if raw, ok := c.p.claims.get(f.name); ok {
			if s, ok := jsonString(raw); ok {
				*f.dst = s
				known[n], n = f.name, n+1
			}
		}
	}
	cl.Attributes = c.others(func(name string) bool { return slices.Contains(known[:n], name) })

	return finish(&c, cl, &cl.Warnings)
}

// userClaim checks the user ID or user directory claim, whose name the
// administrator sets in the virtual proxy's setting (option in the
// verifier), and returns its value.
func (c *check) userClaim(name, option, setting, field string) string {
	raw, ok := c.p.claims.get(name)
	if !ok {
		c.refuse(name, option, "is missing: the virtual proxy's %q is %q%s", setting, name, c.sameNameHint(name))
		return ""
	}
	s, ok := jsonString(raw)
	if !ok {
		c.refuse(name, "", "is %s, not a string; the virtual proxy reads the %s as a string", describeJSON(raw), setting)
		return ""
	}
	c.claimError(checkQSEoWName(name, field, s), true)
	return s
}

// Format prints the configuration, never key material.
func (v *QSEoWVerifier) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.QSEoWVerifier{alg: RS256/RS384/RS512, key: %s, userId: %q, userDirectory: %q, groups: %q, audience: %q, skew: %v}",
		describeKey(v.cfg.publicKey), v.cfg.userIDClaim, v.cfg.userDirClaim, v.cfg.groupsClaim, v.cfg.audience, v.cfg.skew)
}
