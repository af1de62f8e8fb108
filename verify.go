package qsjwt

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// ErrTokenRefused: Qlik would refuse the token. Verify returns it inside a
// [*VerifyError] that lists every reason.
var ErrTokenRefused = errors.New("qsjwt: token refused")

// Problem is one thing wrong with a token, named after the claim and the rule
// of Qlik's it breaks.
type Problem struct {
	// Claim is the claim's name as in the token (e.g. "nbf", "userId"),
	// "header.<name>" for a header field (e.g. "header.alg"), or "token",
	// "header", "payload" or "signature" for the token's form and signature.
	Claim string `json:"claim"`
	// Rule says what is wrong and what Qlik expects.
	Rule string `json:"rule"`
	// Warning is true when Qlik accepts the token all the same, but
	// probably not as meant: e.g. "group" where Qlik Cloud reads "groups",
	// so the user gets no groups. False means Qlik refuses the token.
	Warning bool `json:"warning,omitempty"`
}

// String returns "claim: rule", prefixed by "warning: " for a warning.
func (p Problem) String() string {
	if p.Warning {
		return "warning: " + p.Claim + ": " + p.Rule
	}
	return p.Claim + ": " + p.Rule
}

// VerifyError says why Qlik would refuse a token: every problem found, not
// only the first. It unwraps to [ErrTokenRefused].
type VerifyError struct {
	// Variant is "QSEoW" or "Qlik Cloud".
	Variant string `json:"variant"`
	// Problems are all the problems found, in the order header, signature,
	// claims. At least one is not a warning.
	Problems []Problem `json:"problems"`
	// SignatureVerified is false when the signature was not checked (the
	// algorithm is refused, the token is malformed) or did not verify. The
	// claims are then still checked, because that helps whoever debugs the
	// token, but what the problems say about them comes from a payload
	// anyone could have written.
	SignatureVerified bool `json:"signatureVerified"`

	claimsRead bool // the payload decoded, so claims were judged
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	refused := 0
	for _, p := range e.Problems {
		if !p.Warning {
			refused++
		}
	}
	fmt.Fprintf(&b, "%v: %s would refuse it: %d %s", ErrTokenRefused, e.Variant, refused, plural(refused, "problem"))
	if w := len(e.Problems) - refused; w > 0 {
		fmt.Fprintf(&b, ", %d %s", w, plural(w, "warning"))
	}
	if !e.SignatureVerified && e.claimsRead {
		b.WriteString(" (signature not verified: the claims were read from an unverified payload)")
	}
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// Unwrap returns ErrTokenRefused.
func (e *VerifyError) Unwrap() error { return ErrTokenRefused }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// check is one verification in progress: the decoded token and the problems
// found so far.
type check struct {
	variant  string
	now      time.Time
	skew     time.Duration
	d        *Decoded
	alg      string // the header's "alg" when it is a string
	verified bool
	problems []Problem
	bad      map[string]bool // claims whose problem is already reported
}

func (c *check) refuse(claim, format string, args ...any) {
	c.problems = append(c.problems, Problem{Claim: claim, Rule: fmt.Sprintf(format, args...)})
	c.bad[claim] = true
}

func (c *check) warn(claim, format string, args ...any) {
	c.problems = append(c.problems, Problem{Claim: claim, Rule: fmt.Sprintf(format, args...), Warning: true})
}

// claimError reports a builder rule's *ClaimError as a problem, unless the
// claim's problem is already reported; refused decides its weight.
func (c *check) claimError(err error, refused bool) {
	var ce *ClaimError
	if !errors.As(err, &ce) || c.bad[ce.Claim] {
		return
	}
	if refused {
		c.refuse(ce.Claim, "%s", ce.Reason)
	} else {
		c.warn(ce.Claim, "%s", ce.Reason)
	}
}

// err returns the *VerifyError for the problems found, or nil when Qlik
// accepts the token.
func (c *check) err() error {
	for _, p := range c.problems {
		if !p.Warning {
			return &VerifyError{Variant: c.variant, Problems: c.problems, SignatureVerified: c.verified, claimsRead: c.d != nil}
		}
	}
	return nil
}

// warnings returns the warnings of an accepted token.
func (c *check) warnings() []Problem { return c.problems }

// start checks what both variants check: the token's form, the header's
// "alg" against the allow-list, the signature with key, and duplicate
// names. c.d is nil when the token could not be decoded; then there is
// nothing more to check.
func start(variant, token string, allowed []Algorithm, key crypto.PublicKey, now time.Time, skew time.Duration) *check {
	c := &check{variant: variant, now: now, skew: skew, bad: map[string]bool{}}
	d, part, why := decode(token)
	if why != "" {
		c.refuse(part, "%s", why)
		return c
	}
	c.d = d
	alg, _ := c.headerString("alg")
	c.alg = alg
	accepted := make([]string, len(allowed))
	for i, a := range allowed {
		accepted[i] = string(a)
	}
	list := strings.Join(accepted, ", ")
	switch {
	case c.bad["header.alg"]:
	case alg == "":
		c.refuse("header.alg", "is missing; %s accepts %s", variant, list)
	case strings.EqualFold(alg, "none"):
		c.refuse("header.alg", "is %q: an unsigned token, which Qlik never accepts; sign it with %s", alg, accepted[0])
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		c.refuse("header.alg", "is %q, an HMAC with a shared secret: Qlik never accepts HS* (an HMAC keyed with the public certificate is a known forgery); sign with the private key, %s", alg, accepted[0])
	case !slices.Contains(allowed, Algorithm(alg)):
		c.refuse("header.alg", "is %q; %s accepts only %s", alg, variant, list)
	}
	if _, ok := d.header.members["crit"]; ok {
		c.refuse("header.crit", "asks for JWS extensions, which Qlik does not support")
	}
	if _, ok := d.header.members["b64"]; ok {
		c.refuse("header.b64", "asks for an unencoded payload (RFC 7797), which Qlik does not support")
	}
	if len(c.problems) == 0 {
		payload, err := engine.Verify(strings.TrimSpace(token), alg, accepted, key)
		switch {
		case err != nil:
			c.refuse("signature", "does not verify with the given key (%s): the token was changed after it was signed, or signed with another key", describeKey(key))
		case !bytes.Equal(payload, d.Claims):
			c.refuse("signature", "covers another payload than the one decoded")
		default:
			c.verified = true
		}
	}
	for _, dup := range []struct {
		prefix string
		names  []string
	}{{"header.", d.header.dups}, {"", d.claims.dups}} {
		for _, n := range dup.names {
			c.refuse(dup.prefix+n, "is given more than once; JWT parsers disagree about which one counts, so give each name once")
		}
	}
	return c
}

// headerString returns a header field that is a string; it reports a field
// that is present but not a string.
func (c *check) headerString(name string) (string, bool) {
	raw, ok := c.d.header.members[name]
	if !ok {
		return "", false
	}
	var s string
	if !isString(raw) || json.Unmarshal(raw, &s) != nil {
		c.refuse("header."+name, "is %s; it must be a string", describeJSON(raw))
		return "", false
	}
	return s, true
}

// str returns a claim that is a string; it reports a claim that is present
// but not a string, with rule saying what the variant needs.
func (c *check) str(name, rule string) (string, bool) {
	raw, ok := c.d.claims.members[name]
	if !ok {
		return "", false
	}
	var s string
	if !isString(raw) || json.Unmarshal(raw, &s) != nil {
		c.refuse(name, "is %s, not a string; %s", describeJSON(raw), rule)
		return "", false
	}
	return s, true
}

// isNumber reports whether raw is a JSON number.
func isNumber(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw) // valid JSON: a number starts with - or a digit
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// isString reports whether raw is a JSON string (not null).
func isString(raw json.RawMessage) bool { return bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) }

// strs returns a claim that is an array of strings; ok is false when it is
// absent or of another type.
func (c *check) strs(name string) (v []string, present, ok bool) {
	raw, present := c.d.claims.members[name]
	if !present {
		return nil, false, false
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) && json.Unmarshal(raw, &v) == nil {
		return v, true, true
	}
	return nil, true, false
}

// date returns a NumericDate claim. It reports a claim that is not a JSON
// number, and warns about a number that looks like milliseconds.
func (c *check) date(name string) (time.Time, bool) {
	raw, ok := c.d.claims.members[name]
	if !ok {
		return time.Time{}, false
	}
	t, ok := c.d.Dates[name]
	if !ok {
		c.refuse(name, "is %s; a NumericDate is a JSON number of seconds since 1970", describeJSON(raw))
		return time.Time{}, false
	}
	if _, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err != nil {
		// Q-TIME-2, C-TIME-2 in docs/qlik-rules.md.
		c.refuse(name, "is %s; Qlik's dates are whole seconds: write an integer, without fraction or exponent", compact(raw))
		return time.Time{}, false
	}
	if t.Year() > 3000 {
		c.warn(name, "is %s, a date in the year %d: milliseconds where a NumericDate counts seconds?", compact(raw), t.Year())
	}
	return t, true
}

// times checks iat, nbf and exp: each in required must be present (the
// value says why); an expired token and one not yet valid are refused, with
// the clock skew; iat in the future is a warning (Q-TIME-4, C-TIME-5 in
// docs/qlik-rules.md). It returns the three times, zero when absent or not
// a number.
func (c *check) times(required map[string]string) (iat, nbf, exp time.Time) {
	for _, n := range []string{"iat", "nbf", "exp"} {
		if _, ok := c.d.claims.members[n]; !ok && required[n] != "" {
			c.refuse(n, "is missing; %s", required[n])
		}
	}
	now := formatDate(c.now)
	iat, okIat := c.date("iat")
	nbf, okNbf := c.date("nbf")
	exp, okExp := c.date("exp")
	if okExp && !c.now.Before(exp.Add(c.skew)) {
		c.refuse("exp", "expired at %s; now is %s (clock skew %v)", formatDate(exp), now, c.skew)
	}
	if okNbf && nbf.After(c.now.Add(c.skew)) {
		c.refuse("nbf", "is %s, in the future: the token is not valid yet; now is %s (clock skew %v)", formatDate(nbf), now, c.skew)
	}
	if okIat && iat.After(c.now.Add(c.skew)) {
		c.warn("iat", "is %s, in the future; now is %s (clock skew %v): the signer's clock is ahead", formatDate(iat), now, c.skew)
	}
	if okExp && okNbf && !exp.After(nbf) {
		c.refuse("exp", "is not after nbf: the token is never valid")
	}
	return iat, nbf, exp
}

// others returns every claim not named in known, decoded: strings, booleans,
// []string for an array of strings, json.Number for numbers, and otherwise
// what encoding/json makes of it with UseNumber. Nil when there are none.
func (c *check) others(known ...string) map[string]any {
	var m map[string]any
	for _, n := range c.d.claims.names {
		if slices.Contains(known, n) {
			continue
		}
		if m == nil {
			m = map[string]any{}
		}
		m[n] = decodeValue(c.d.claims.members[n])
	}
	return m
}

func decodeValue(raw json.RawMessage) any {
	var ss []string
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) && json.Unmarshal(raw, &ss) == nil {
		return ss
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// describeJSON names a JSON value's type and shows it, shortened: `the
// string "true"`, `an array ["a"]`, `a number 3`.
func describeJSON(raw json.RawMessage) string {
	v := compact(raw)
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	switch {
	case v == "":
		return "empty"
	case v[0] == '"':
		return "the string " + v
	case v[0] == '[':
		return "an array " + v
	case v[0] == '{':
		return "an object " + v
	case v == "true" || v == "false":
		return "the boolean " + v
	case v == "null":
		return "null"
	}
	return "the number " + v
}

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
//   - form: a compact JWS of at most [MaxTokenSize] bytes; no JWE, no JWS
//     JSON serialization, no "crit" or "b64" header, no name given twice;
//   - "alg" RS256, RS384 or RS512 (never "none" nor HS*), and a signature
//     that verifies with the key;
//   - the user ID and user directory claims: strings, not empty, no
//     leading or trailing white space, no backslash;
//   - "aud" exactly the configured audience, as a string, when one is
//     configured;
//   - exp and nbf honoured when present, with the clock skew; iat, nbf and
//     exp whole-second NumericDates when present, nbf before exp.
//
// Warnings (on the claims, or beside the problems) flag what the proxy
// accepts but probably should not get: no exp, iat in the future, a groups
// claim that is not an array of non-empty strings.
func (v *QSEoWVerifier) Verify(token string) (*QSEoWClaims, error) {
	cfg := &v.cfg
	c := start("QSEoW", token, qseowAlgorithms, cfg.publicKey, cfg.now(), cfg.skew)
	if c.d == nil {
		return nil, c.err()
	}
	var cl QSEoWClaims
	cl.Algorithm = Algorithm(c.alg)

	for _, a := range []struct {
		claim, option, setting, field string
		dst                           *string
	}{
		{cfg.userIDClaim, "WithUserIDClaim", "JWT attribute for user ID", "QSEoWUser.UserID", &cl.UserID},
		{cfg.userDirClaim, "WithUserDirectoryClaim", "JWT attribute for user directory", "QSEoWUser.UserDirectory", &cl.UserDirectory},
	} {
		if _, ok := c.d.claims.members[a.claim]; !ok {
			c.refuse(a.claim, "is missing: the virtual proxy's %q is %q (%s)%s", a.setting, a.claim, a.option, c.sameNameHint(a.claim))
			continue
		}
		if s, ok := c.str(a.claim, "the virtual proxy reads the "+a.setting+" as a string"); ok {
			*a.dst = s
			c.claimError(checkQSEoWName(a.claim, a.field, s), true)
		}
	}

	if cfg.audience != "" {
		aud, ok := c.str("aud", fmt.Sprintf("the virtual proxy compares the plain string with its JWT audience %q", cfg.audience))
		switch {
		case c.bad["aud"]:
		case !ok:
			c.refuse("aud", "is missing; the virtual proxy's JWT audience is %q (WithAudience)", cfg.audience)
		case aud != cfg.audience:
			c.refuse("aud", "is %q; the virtual proxy's JWT audience is %q (WithAudience), and they must match exactly", aud, cfg.audience)
		}
		cl.Audience = aud
	} else if raw, ok := c.d.claims.members["aud"]; ok {
		_ = json.Unmarshal(raw, &cl.Audience) // not checked: no audience is configured
	}

	cl.IssuedAt, cl.NotBefore, cl.ExpiresAt = c.times(nil)
	if _, ok := c.d.claims.members["exp"]; !ok {
		c.warn("exp", "is missing: the token never expires; the proxy honours exp when present, so always set it")
	}

	if groups, present, ok := c.strs(cfg.groupsClaim); ok {
		cl.Groups = groups
		c.claimError(checkGroups(cfg.groupsClaim, "QSEoWUser.Groups", groups), false)
	} else if present {
		c.warn(cfg.groupsClaim, "is %s; the attribute mapping reads groups (WithGroupsClaim) from an array of strings", describeJSON(c.d.claims.members[cfg.groupsClaim]))
	}
	known := []string{cfg.userIDClaim, cfg.userDirClaim, "aud", "iat", "nbf", "exp"}
	if cl.Groups != nil {
		known = append(known, cfg.groupsClaim)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &cl.Name}, {"email", &cl.Email}} {
		var s string
		if raw, ok := c.d.claims.members[f.name]; ok && isString(raw) && json.Unmarshal(raw, &s) == nil {
			*f.dst = s
			known = append(known, f.name)
		}
	}
	cl.Attributes = c.others(known...)

	if err := c.err(); err != nil {
		return nil, err
	}
	cl.Warnings = c.warnings()
	return &cl, nil
}

// sameNameHint points at a claim whose name differs from name only in case.
func (c *check) sameNameHint(name string) string {
	for _, n := range c.d.claims.names {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf("; the token has %q, but claim names are case-sensitive", n)
		}
	}
	return ""
}

// Format prints the configuration, never key material.
func (v *QSEoWVerifier) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.QSEoWVerifier{alg: RS256/RS384/RS512, key: %s, userId: %q, userDirectory: %q, groups: %q, audience: %q, skew: %v}",
		describeKey(v.cfg.publicKey), v.cfg.userIDClaim, v.cfg.userDirClaim, v.cfg.groupsClaim, v.cfg.audience, v.cfg.skew)
}

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

// cloudClaims are the claims Qlik Cloud reads.
var cloudClaims = []string{"iss", "aud", "sub", "subType", "name", "email", "email_verified", "groups", "jti", "iat", "nbf", "exp"}

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
//   - form: a compact JWS of at most [MaxTokenSize] bytes; no JWE, no JWS
//     JSON serialization, no "crit" or "b64" header, no name given twice;
//   - header "alg" RS256 (never "none" nor HS*) with a signature that
//     verifies with the key, and "kid" the identity provider's Key ID;
//   - "iss" the identity provider's issuer; "aud" exactly the string
//     [CloudAudience], not an array; "subType" "user";
//   - "sub", "name", "email" non-empty strings; "email_verified" a JSON
//     boolean, not a string; "groups", when present, an array of strings;
//   - "jti" a non-empty string or a number; "iat", "nbf" and "exp" present,
//     whole-second NumericDates, nbf before exp, exp and nbf valid now
//     within the clock skew, and exp - iat and exp - nbf at most
//     [CloudMaxLifetime].
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
	c := start("Qlik Cloud", token, cloudAlgorithms, cfg.publicKey, cfg.now(), cfg.skew)
	if c.d == nil {
		return nil, c.err()
	}
	var cl CloudClaims
	cl.Algorithm = Algorithm(c.alg)
	kid, ok := c.headerString("kid")
	switch {
	case c.bad["header.kid"]:
	case !ok && cfg.keyID == "":
		c.refuse("header.kid", "is missing; Qlik Cloud needs the identity provider's Key ID")
	case !ok:
		c.refuse("header.kid", "is missing; Qlik Cloud needs the identity provider's Key ID %q (WithKeyID)", cfg.keyID)
	case cfg.keyID == "":
		c.warn("header.kid", "is %q and was not checked: the verifier has no Key ID (WithKeyID); Qlik Cloud requires the identity provider's", kid)
	case kid != cfg.keyID:
		c.refuse("header.kid", "is %q; the identity provider's Key ID is %q (WithKeyID)", kid, cfg.keyID)
	}
	cl.KeyID = kid
	if typ, ok := c.headerString("typ"); !c.bad["header.typ"] && typ != "JWT" {
		if !ok {
			c.warn("header.typ", `is missing; every Qlik Cloud example sends "JWT"`)
		} else {
			c.warn("header.typ", `is %q; every Qlik Cloud example sends "JWT"`, typ)
		}
	}

	iss, ok := c.str("iss", "Qlik Cloud needs the identity provider's issuer")
	switch {
	case c.bad["iss"]:
	case !ok && cfg.issuer == "":
		c.refuse("iss", "is missing; Qlik Cloud needs the identity provider's issuer")
	case !ok:
		c.refuse("iss", "is missing; Qlik Cloud needs the identity provider's issuer %q (WithIssuer)", cfg.issuer)
	case cfg.issuer == "":
		c.warn("iss", "is %q and was not checked: the verifier has no issuer (WithIssuer); Qlik Cloud requires the identity provider's", iss)
	case iss != cfg.issuer:
		c.refuse("iss", "is %q; the identity provider's issuer is %q (WithIssuer), and they must match exactly", iss, cfg.issuer)
	}
	cl.Issuer = iss

	aud, ok := c.str("aud", fmt.Sprintf("Qlik Cloud needs the plain string %q", CloudAudience))
	switch {
	case c.bad["aud"]:
	case !ok:
		c.refuse("aud", "is missing; Qlik Cloud needs exactly %q", CloudAudience)
	case aud != CloudAudience:
		c.refuse("aud", "is %q; Qlik Cloud needs exactly %q", aud, CloudAudience)
	}
	cl.Audience = aud

	cl.Subject, _ = c.str("sub", "Qlik Cloud needs the user's stable key as a string")
	cl.Name, _ = c.str("name", "Qlik Cloud needs the display name as a string")
	cl.Email, _ = c.str("email", "Qlik Cloud needs the e-mail address as a string")
	if groups, present, ok := c.strs("groups"); ok {
		cl.Groups = groups
	} else if present {
		c.refuse("groups", "is %s; Qlik Cloud needs an array of strings", describeJSON(c.d.claims.members["groups"]))
	}
	for _, err := range checkCloudUser(cl.CloudUser) {
		c.claimError(err, errors.Is(err, ErrMissingClaim))
	}
	if _, ok := c.d.claims.members["group"]; ok {
		c.warn("group", `is ignored: Qlik Cloud reads "groups" (plural), so the user gets none of these groups; rename the claim`)
	}

	st, ok := c.str("subType", fmt.Sprintf("Qlik Cloud needs exactly %q", cloudSubjectType))
	switch {
	case c.bad["subType"]:
	case !ok:
		c.refuse("subType", "is missing; Qlik Cloud needs exactly %q", cloudSubjectType)
	case st != cloudSubjectType:
		c.refuse("subType", "is %q; Qlik Cloud needs exactly %q", st, cloudSubjectType)
	}
	cl.SubjectType = st

	raw, ok := c.d.claims.members["email_verified"]
	switch v := compact(raw); {
	case !ok:
		c.refuse("email_verified", "is missing; Qlik Cloud needs the JSON boolean true or false")
	case v == "true" || v == "false":
		cl.EmailVerified = v == "true"
	case isString(raw):
		c.refuse("email_verified", "is %s; Qlik Cloud needs the JSON boolean true or false, not a string", describeJSON(raw))
	default:
		c.refuse("email_verified", "is %s; Qlik Cloud needs the JSON boolean true or false", describeJSON(raw))
	}

	raw, ok = c.d.claims.members["jti"]
	switch {
	case !ok:
		c.refuse("jti", "is missing; Qlik Cloud needs a unique ID per token (and refuses one it has seen)")
	case isNumber(raw):
		// Qlik's own support article shows a numeric jti: a warning only
		// (C-JTI-1 in docs/qlik-rules.md).
		c.warn("jti", "is %s, not a string; Qlik Cloud expects a unique string per token", describeJSON(raw))
	case !isString(raw) || json.Unmarshal(raw, &cl.ID) != nil:
		c.refuse("jti", "is %s; Qlik Cloud needs a unique string (or number) per token", describeJSON(raw))
	case cl.ID == "":
		c.refuse("jti", "is empty; Qlik Cloud needs a unique ID per token (and refuses one it has seen)")
	}

	cl.IssuedAt, cl.NotBefore, cl.ExpiresAt = c.times(map[string]string{
		"iat": "Qlik Cloud requires it",
		"nbf": "Qlik Cloud refuses a token without it (INTERNAL-TOKEN-1 Missing required claim: nbf)",
		"exp": "Qlik Cloud requires it",
	})
	for _, from := range []struct {
		name string
		at   time.Time
	}{{"iat", cl.IssuedAt}, {"nbf", cl.NotBefore}} {
		if !cl.ExpiresAt.IsZero() && !from.at.IsZero() && cl.ExpiresAt.After(from.at.Add(CloudMaxLifetime)) {
			c.refuse("exp", "exp - %s is %s; Qlik Cloud allows at most %d s", from.name, seconds(cl.ExpiresAt.Unix()-from.at.Unix()), int(CloudMaxLifetime/time.Second))
		}
	}
	cl.Other = c.others(cloudClaims...)

	if err := c.err(); err != nil {
		return nil, err
	}
	cl.Warnings = c.warnings()
	return &cl, nil
}

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
