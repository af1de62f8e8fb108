package qsjwt

import (
	"crypto"
	"errors"
	"fmt"
	"time"
)

// CloudVerifier decides whether a Qlik Cloud JWT identity provider would
// accept a token at POST /login/jwt-session. Make one with
// [NewCloudVerifier]; it is immutable and safe for concurrent use.
type CloudVerifier struct {
	cfg cloudConfig
}

// CloudClaims are the claims of a token Qlik Cloud accepts.
type CloudClaims struct {
	// CloudUser holds sub, name, email, email_verified and groups.
	CloudUser
	// Issuer ("iss"), Audience ("aud"), SubjectType ("subType") and ID
	// ("jti"; empty when it is not a string).
	Issuer, Audience, SubjectType, ID string
	// KeyID and Algorithm are the header's "kid" and "alg".
	KeyID     string
	Algorithm Algorithm
	// IssuedAt, NotBefore and ExpiresAt are iat, nbf and exp.
	IssuedAt, NotBefore, ExpiresAt time.Time
	// Other holds the claims Qlik Cloud ignores, decoded as
	// QSEoWClaims.Attributes are.
	Other map[string]any
	// Warnings are the problems that do not make Qlik Cloud refuse the
	// token, e.g. "group" where Qlik Cloud reads "groups".
	Warnings []Problem
}

// isCloudClaim reports whether Qlik Cloud reads a claim.
func isCloudClaim(name string) bool {
	switch name {
	case "iss", "aud", "sub", "subType", "name", "email", "email_verified", "groups", "jti", "iat", "nbf", "exp":
		return true
	}
	return false
}

// NewCloudVerifier checks the key and the options and returns a verifier
// that decides as the Qlik Cloud identity provider they describe would.
//
// key is the public key of the identity provider's certificate, given as
// for [NewQSEoWVerifier]. The options:
//
//   - [WithIssuer] and [WithKeyID]: the identity provider's issuer and Key
//     ID, which Qlik Cloud always checks. Without one, the verifier cannot
//     check that value: it accepts any, and lists a warning saying so.
//   - [WithClockSkew]: the identity provider's clockToleranceSec (default
//     five seconds, Qlik's default); and [WithClock].
//
// Every problem is reported at once, each an [*OptionError] naming the
// option (or "key") that fixes it. Nil options are ignored.
func NewCloudVerifier(key crypto.PublicKey, opts ...CloudVerifierOption) (*CloudVerifier, error) {
	var cfg cloudConfig
	for _, o := range opts {
		if o != nil {
			o.applyCloudVerifier(&cfg)
		}
	}
	if err := cfg.finishVerifier(key); err != nil {
		return nil, err
	}
	return &CloudVerifier{cfg: cfg}, nil
}

// Verify decides whether Qlik Cloud would accept token, and returns its
// claims when it would. When it would not, the claims are nil and the error
// is a [*VerifyError] listing every problem. The rules:
//
//   - the form and the signature as for [QSEoWVerifier.Verify], with "alg"
//     RS256 only, and header "kid" the identity provider's Key ID;
//   - "iss" the identity provider's issuer; "aud" exactly the string
//     [CloudAudience], not an array; "subType" "user";
//   - "sub", "name", "email" non-empty strings; "email_verified" a JSON
//     boolean, not a string; "groups", when present, an array of strings;
//   - "jti" a non-empty string or a number; "iat", "nbf" and "exp" present,
//     whole-second NumericDates within 2^53-1 seconds of 1970, nbf before
//     exp, exp and nbf valid now within the clock skew, and exp - iat and
//     exp - nbf at most one hour.
//
// Warnings (on the claims, or beside the problems) flag what Qlik Cloud
// accepts but probably not as meant: "group" for "groups", a "typ" other
// than "JWT", white space around sub, name or email, an email without @, an
// empty group name, a jti that is a number, iat in the future.
//
// docs/qlik-rules.md in the repository states each rule with its source.
//
// Verify cannot know two things Qlik Cloud knows: whether the jti was used
// before, and whether sub is the user's stable key (a random sub makes a new
// Qlik user at every login).
func (v *CloudVerifier) Verify(token string) (*CloudClaims, error) {
	cfg := &v.cfg
	c := start("Qlik Cloud", "Qlik Cloud", token, cloudAlgNames, &cfg.common)
	if !c.read {
		return nil, c.err()
	}
	cl := &CloudClaims{Algorithm: Algorithm(c.alg)}
	cl.KeyID = c.exact(expected{field: "header.kid", what: "the identity provider's Key ID", want: cfg.keyID, option: "WithKeyID"})
	if typ, ok := c.headerString("typ"); !c.refused("header.typ") && typ != "JWT" {
		if !ok {
			c.warn("header.typ", "", `is missing; every Qlik Cloud example sends "JWT"`)
		} else {
			c.warn("header.typ", "", `is %q; every Qlik Cloud example sends "JWT"`, typ)
		}
	}
	cl.Issuer = c.exact(expected{field: "iss", what: "the identity provider's issuer", want: cfg.issuer, option: "WithIssuer"})
	cl.Audience = c.exact(expected{field: "aud", what: "the login audience", want: CloudAudience})
	cl.SubjectType = c.exact(expected{field: "subType", what: "the subject type", want: cloudSubjectType})

	cl.Subject, _ = c.str("sub", "Qlik Cloud needs the user's stable key as a string")
	cl.Name, _ = c.str("name", "Qlik Cloud needs the display name as a string")
	cl.Email, _ = c.str("email", "Qlik Cloud needs the e-mail address as a string")
	if raw, ok := c.p.claims.get("groups"); ok {
		if groups, ok := jsonStrings(raw); ok {
			cl.Groups = groups
		} else {
			c.refuse("groups", "", "is %s; Qlik Cloud needs an array of strings", describeJSON(raw))
		}
	}
	for _, err := range checkCloudUser(cl.CloudUser) {
		c.claimError(err, errors.Is(err, errMissingClaim))
	}
	if c.p.claims.has("group") {
		c.warn("group", "", `is ignored: Qlik Cloud reads "groups" (plural), so the user gets none of these groups; rename the claim`)
	}

	switch raw, ok := c.p.claims.get("email_verified"); {
	case !ok:
		c.refuse("email_verified", "", "is missing; Qlik Cloud needs the JSON boolean true or false")
	case raw == "true" || raw == "false":
		cl.EmailVerified = raw == "true"
	case isString(raw):
		c.refuse("email_verified", "", "is %s; Qlik Cloud needs the JSON boolean true or false, not a string", describeJSON(raw))
	default:
		c.refuse("email_verified", "", "is %s; Qlik Cloud needs the JSON boolean true or false", describeJSON(raw))
	}

	switch raw, ok := c.p.claims.get("jti"); {
	case !ok:
		c.refuse("jti", "", "is missing; Qlik Cloud needs a unique ID per token (and refuses one it has seen)")
	case isNumber(raw):
		// Qlik's own support article shows a numeric jti: a warning only
		// (C-JTI-1 in docs/qlik-rules.md).
		c.warn("jti", "", "is %s, not a string; Qlik Cloud expects a unique string per token", describeJSON(raw))
	case !isString(raw):
		c.refuse("jti", "", "is %s; Qlik Cloud needs a unique string (or number) per token", describeJSON(raw))
	default:
		if cl.ID, _ = jsonString(raw); cl.ID == "" {
			c.refuse("jti", "", "is empty; Qlik Cloud needs a unique ID per token (and refuses one it has seen)")
		}
	}

	t := c.times([3]string{
		"Qlik Cloud requires it",
		"Qlik Cloud refuses a token without it (INTERNAL-TOKEN-1 Missing required claim: nbf)",
		"Qlik Cloud requires it",
	})
	cl.IssuedAt, cl.NotBefore, cl.ExpiresAt = t.iat, t.nbf, t.exp
	// C-TIME-3: both within maxDateSeconds, so the differences cannot overflow.
	for _, from := range [2]struct {
		name string
		at   time.Time
		has  bool
	}{{"iat", t.iat, t.hasIat}, {"nbf", t.nbf, t.hasNbf}} {
		if life := t.exp.Unix() - from.at.Unix(); t.hasExp && from.has && life > cloudMaxSeconds {
			c.refuse("exp", "", "exp - %s is %s; Qlik Cloud allows at most %d s", from.name, seconds(life), cloudMaxSeconds)
		}
	}
	cl.Other = c.others(isCloudClaim)

	return finish(&c, cl, &cl.Warnings)
}

// cloudMaxSeconds is CloudMaxLifetime in seconds.
const cloudMaxSeconds = int64(CloudMaxLifetime / time.Second)

// seconds writes a number of seconds, with days when it is long.
func seconds(s int64) string {
	if s >= 2*86400 {
		return fmt.Sprintf("%d s (%d days)", s, s/86400)
	}
	return fmt.Sprintf("%d s", s)
}

// Format prints the configuration, never key material.
func (v *CloudVerifier) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.CloudVerifier{alg: RS256, key: %s, iss: %q, kid: %q, skew: %v}",
		describeKey(v.cfg.publicKey), v.cfg.issuer, v.cfg.keyID, v.cfg.skew)
}
