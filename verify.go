package qsjwt

// This file holds what both verifiers share: the problems they report, the
// checks of a token's form and signature, and the rules both variants
// apply to a claim. verify_qseow.go and verify_cloud.go hold the variants.

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errTokenRefused: Qlik would refuse the token; what a *VerifyError unwraps
// to, and the start of its text.
var errTokenRefused = errors.New("qsjwt: token refused")

// Problem is one thing wrong with a token, named after the claim and the rule
// of Qlik's it breaks.
type Problem struct {
	// Claim is the claim's name as in the token (e.g. "nbf", "userId"),
	// "header.<name>" for a header field (e.g. "header.alg"), or "token",
	// "header", "payload" or "signature" for the token's form and signature.
	// A name comes from the token: print it quoted, as String does.
	Claim string `json:"claim"`
	// Rule says what is wrong and what Qlik expects. Values from the token
	// in it are quoted or escaped. It names no Go option: Option does.
	Rule string `json:"rule"`
	// Option names what fixes the problem when the verifier, not the token,
	// may be what is wrong: the verifier's option that sets the expected
	// value ("WithAudience", "WithIssuer", "WithKeyID", "WithUserIDClaim",
	// "WithUserDirectoryClaim", "WithGroupsClaim"), or "key" for the key
	// the verifier was given (its first parameter). "" for a problem in the
	// token itself.
	Option string `json:"option,omitempty"`
	// Warning is true when Qlik accepts the token all the same, but
	// probably not as meant: e.g. "group" where Qlik Cloud reads "groups",
	// so the user gets no groups. False means Qlik refuses the token.
	Warning bool `json:"warning,omitempty"`
}

// String returns "claim: rule", prefixed by "warning: " for a warning and
// followed by the option in parentheses when Option names one ("(WithIssuer)").
// A claim name holding anything but letters, digits, "_", "-", "." and "$"
// is quoted, so that no name from a token reaches a terminal or log raw.
func (p Problem) String() string {
	s := quoteClaim(p.Claim) + ": " + p.Rule
	if strings.HasPrefix(p.Option, "With") {
		s += " (" + p.Option + ")"
	}
	if p.Warning {
		return "warning: " + s
	}
	return s
}

// quoteClaim returns name as it is when it is plain, else quoted by Go's
// rules (strconv.Quote).
func quoteClaim(name string) string {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.', c == '$':
		default:
			return strconv.Quote(name)
		}
	}
	if name == "" {
		return `""`
	}
	return name
}

// maxListed is how many problems VerifyError.Error lists; the rest are
// counted. A token can be made to hold thousands (a name given again and
// again), and the error string stays small.
const maxListed = 20

// VerifyError says why Qlik would refuse a token: every problem found, not
// only the first. Match it with errors.As.
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

// Error counts the problems and warnings and lists the first 20, one per
// line; Problems holds them all.
func (e *VerifyError) Error() string {
	var b strings.Builder
	refused := 0
	for _, p := range e.Problems {
		if !p.Warning {
			refused++
		}
	}
	fmt.Fprintf(&b, "%v: %s would refuse it: %d %s", errTokenRefused, e.Variant, refused, plural(refused, "problem"))
	if w := len(e.Problems) - refused; w > 0 {
		fmt.Fprintf(&b, ", %d %s", w, plural(w, "warning"))
	}
	if !e.SignatureVerified && e.claimsRead {
		b.WriteString(" (signature not verified: the claims were read from an unverified payload)")
	}
	for i, p := range e.Problems {
		if i == maxListed {
			fmt.Fprintf(&b, "\n\tand %d more", len(e.Problems)-maxListed)
			break
		}
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// Unwrap returns the package's own "token refused" error.
func (e *VerifyError) Unwrap() error { return errTokenRefused }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// check is one verification in progress: the parsed token and the problems
// found so far. A token Qlik accepts costs no formatting: rules are written
// only for the problems found.
type check struct {
	variant  string // "QSEoW" or "Qlik Cloud", for VerifyError
	reader   string // who compares the values: "the virtual proxy" or "Qlik Cloud"
	now      time.Time
	skew     time.Duration
	p        parsed
	read     bool   // the token parsed: header and claims can be judged
	alg      string // the header's "alg" when it is a string
	verified bool
	problems []Problem
}

func (c *check) add(claim, option string, warning bool, format string, args []any) {
	rule := format
	if len(args) > 0 {
		rule = fmt.Sprintf(format, args...)
	}
	c.problems = append(c.problems, Problem{Claim: claim, Rule: rule, Option: option, Warning: warning})
}

// refuse records a problem that makes Qlik refuse the token.
func (c *check) refuse(claim, option, format string, args ...any) {
	c.add(claim, option, false, format, args)
}

// warn records a problem Qlik accepts.
func (c *check) warn(claim, option, format string, args ...any) {
	c.add(claim, option, true, format, args)
}

// refused reports whether claim already has a problem that refuses the token.
func (c *check) refused(claim string) bool {
	for _, p := range c.problems {
		if !p.Warning && p.Claim == claim {
			return true
		}
	}
	return false
}

// claimError reports a builder rule's *ClaimError as a problem, unless the
// claim's problem is already reported; refuse decides its weight.
func (c *check) claimError(err error, refuse bool) {
	if err == nil {
		return // before errors.As, whose target would cost an allocation
	}
	var ce *ClaimError
	if !errors.As(err, &ce) || c.refused(ce.Claim) {
		return
	}
	c.add(ce.Claim, "", !refuse, ce.Reason, nil)
}

// accepted reports whether Qlik accepts the token: no problem found so far
// is more than a warning.
func (c *check) accepted() bool {
	for _, p := range c.problems {
		if !p.Warning {
			return false
		}
	}
	return true
}

// err returns the *VerifyError for the problems found, or nil when Qlik
// accepts the token.
func (c *check) err() error {
	if c.accepted() {
		return nil
	}
	return &VerifyError{Variant: c.variant, Problems: c.problems, SignatureVerified: c.verified, claimsRead: c.read}
}

// algNames are the allow-lists of the variants, as engine.VerifyRSA takes them.
var (
	qseowAlgNames = []string{string(RS256), string(RS384), string(RS512)}
	cloudAlgNames = []string{string(RS256)}
)

// start begins the check of token by a variant (named for VerifyError, and
// as the reader of the values it compares) and checks what both variants
// check: the token's form, the header's "alg" against allowed, "crit" and
// "b64", the signature with the verifier's key over the exact bytes
// received, and names given twice. c.read is false when the token did not
// parse; then there is nothing more to check.
func start(variant, reader, token string, allowed []string, cfg *common) (c check) {
	c = check{variant: variant, reader: reader, now: cfg.now(), skew: cfg.skew}
	c.parseAndVerify(token, allowed, cfg.publicKey)
	return c
}

// finish returns the claims of an accepted token with its warnings, or the
// *VerifyError of a refused one.
func finish[T any](c *check, claims *T, warnings *[]Problem) (*T, error) {
	if err := c.err(); err != nil {
		return nil, err
	}
	*warnings = c.problems
	return claims, nil
}

func (c *check) parseAndVerify(token string, allowed []string, key crypto.PublicKey) {
	p, part, why := parse(token)
	if why != "" {
		c.refuse(part, "", "%s", why)
		return
	}
	c.p, c.read = p, true
	alg, _ := c.headerString("alg")
	c.alg = alg
	switch {
	case c.refused("header.alg"):
	case alg == "":
		c.refuse("header.alg", "", "is missing; %s accepts %s", c.variant, strings.Join(allowed, ", "))
	case strings.EqualFold(alg, "none"):
		c.refuse("header.alg", "", "is %q: an unsigned token, which Qlik never accepts; sign it with %s", alg, allowed[0])
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		c.refuse("header.alg", "", "is %q, an HMAC with a shared secret: Qlik never accepts HS* (an HMAC keyed with the public certificate is a known forgery); sign with the private key, %s", alg, allowed[0])
	case !slices.Contains(allowed, alg):
		c.refuse("header.alg", "", "is %q; %s accepts only %s", alg, c.variant, strings.Join(allowed, ", "))
	}
	if p.header.has("crit") {
		c.refuse("header.crit", "", "asks for JWS extensions, which Qlik does not support")
	}
	if p.header.has("b64") {
		c.refuse("header.b64", "", "asks for an unencoded payload (RFC 7797), which Qlik does not support")
	}
	if len(c.problems) == 0 {
		pub, _ := key.(*rsa.PublicKey) // the constructors keep nothing else
		if err := p.compact.VerifyRSA(alg, allowed, pub); err != nil {
			c.refuse("signature", "key", "does not verify with the given key (%s): the token was changed after it was signed, or signed with another key", describeKey(key))
		} else {
			c.verified = true
		}
	}
	for _, obj := range [2]struct {
		prefix string
		o      *object
	}{{"header.", &p.header}, {"", &p.claims}} {
		for _, m := range obj.o.members {
			switch { // one problem per name, however often it is given
			case !obj.o.dups || m.times == 1:
			case m.times == 2:
				c.refuse(obj.prefix+m.name, "", "is given twice; "+dupAdvice)
			default:
				c.refuse(obj.prefix+m.name, "", "is given %d times; "+dupAdvice, m.times)
			}
		}
	}
}

// dupAdvice ends the rule of a name given more than once.
const dupAdvice = "JWT parsers disagree about which one counts, so give each name once"

// headerString returns a header field that is a string; it reports a field
// that is present but not a string.
func (c *check) headerString(name string) (string, bool) {
	raw, ok := c.p.header.get(name)
	if !ok {
		return "", false
	}
	s, ok := jsonString(raw)
	if !ok {
		c.refuse("header."+name, "", "is %s; it must be a string", describeJSON(raw))
	}
	return s, ok
}

// str returns a claim that is a string; it reports a claim that is present
// but not a string, with rule saying what the variant needs.
func (c *check) str(name, rule string) (string, bool) {
	raw, ok := c.p.claims.get(name)
	if !ok {
		return "", false
	}
	s, ok := jsonString(raw)
	if !ok {
		c.refuse(name, "", "is %s, not a string; %s", describeJSON(raw), rule)
	}
	return s, ok
}

// expected is a string Qlik compares exactly with a value it holds: a
// claim, or a header field ("header.kid").
type expected struct {
	field  string // "iss", "aud", "header.kid", …
	what   string // what Qlik holds: "the identity provider's issuer"
	want   string // its value; "" when the verifier was not given it
	option string // the option that sets want; "" for a value of Qlik's own
}

// exact checks the rule every expected value has: present, a string, and
// exactly want. Without want, any string is accepted with a warning that it
// was not checked. It returns the value when it is a string.
func (c *check) exact(e expected) string {
	obj, name := c.p.claims, e.field
	if n, ok := strings.CutPrefix(e.field, "header."); ok {
		obj, name = c.p.header, n
	}
	raw, present := obj.get(name)
	got, isString := jsonString(raw)
	switch {
	case present && !isString:
		c.refuse(e.field, "", "is %s, not a string; %s needs %s as a plain string", describeJSON(raw), c.reader, e.named())
	case !present:
		c.refuse(e.field, "", "is missing; %s needs %s", c.reader, e.named())
	case e.want == "":
		c.warn(e.field, e.option, "is %q and was not checked: the verifier was not given %s; %s requires it", got, e.what, c.reader)
	case got != e.want:
		c.refuse(e.field, e.option, "is %q; %s needs exactly %s", got, c.reader, e.named())
	}
	return got
}

// named is what Qlik holds, with its value when the verifier knows it.
func (e expected) named() string {
	if e.want == "" {
		return e.what
	}
	return e.what + " " + strconv.Quote(e.want)
}

// date returns a NumericDate claim: a JSON integer within maxDateSeconds
// (Q-TIME-2, C-TIME-2 in docs/qlik-rules.md). It reports any other value,
// and warns about a date that looks like milliseconds.
func (c *check) date(name string) (time.Time, bool) {
	raw, ok := c.p.claims.get(name)
	if !ok {
		return time.Time{}, false
	}
	if !isNumber(raw) {
		c.refuse(name, "", "is %s; a NumericDate is a JSON number of seconds since 1970", describeJSON(raw))
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	switch {
	case err != nil && strings.ContainsAny(raw, ".eE"):
		c.refuse(name, "", "is %s; Qlik's dates are whole seconds: write an integer, without fraction or exponent", shorten(raw))
		return time.Time{}, false
	case err != nil || n > maxDateSeconds || n < -maxDateSeconds:
		c.refuse(name, "", "is %s, beyond the range of a date: at most 2^53-1 seconds from 1970 (the largest integer JavaScript holds exactly); write seconds since 1970", shorten(raw))
		return time.Time{}, false
	}
	t := time.Unix(n, 0).UTC()
	if t.Year() > 3000 {
		c.warn(name, "", "is %s, a date in the year %d: milliseconds where a NumericDate counts seconds?", raw, t.Year())
	}
	return t, true
}

// shorten keeps a number from a token short enough for one line.
func shorten(raw string) string {
	if len(raw) > 24 {
		return raw[:20] + "..."
	}
	return raw
}

// dates are iat, nbf and exp, each with whether it is present and valid.
type dates struct {
	iat, nbf, exp          time.Time
	hasIat, hasNbf, hasExp bool
}

// times checks iat, nbf and exp: each with a reason in required (in that
// order) must be present; an expired token and one not yet valid are
// refused, with the clock skew; iat in the future is a warning (Q-TIME-4,
// C-TIME-5 in docs/qlik-rules.md). Every date is within maxDateSeconds, so
// that adding the skew (at most two hours) cannot overflow.
func (c *check) times(required [3]string) (d dates) {
	for i, n := range [3]string{"iat", "nbf", "exp"} {
		if required[i] != "" && !c.p.claims.has(n) {
			c.refuse(n, "", "is missing; %s", required[i])
		}
	}
	d.iat, d.hasIat = c.date("iat")
	d.nbf, d.hasNbf = c.date("nbf")
	d.exp, d.hasExp = c.date("exp")
	if d.hasExp && !c.now.Before(d.exp.Add(c.skew)) {
		c.refuse("exp", "", "expired at %s; now is %s (clock skew %v)", formatDate(d.exp), formatDate(c.now), c.skew)
	}
	if d.hasNbf && d.nbf.After(c.now.Add(c.skew)) {
		c.refuse("nbf", "", "is %s, in the future: the token is not valid yet; now is %s (clock skew %v)", formatDate(d.nbf), formatDate(c.now), c.skew)
	}
	if d.hasIat && d.iat.After(c.now.Add(c.skew)) {
		c.warn("iat", "", "is %s, in the future; now is %s (clock skew %v): the signer's clock is ahead", formatDate(d.iat), formatDate(c.now), c.skew)
	}
	if d.hasExp && d.hasNbf && !d.exp.After(d.nbf) {
		c.refuse("exp", "", "is not after nbf: the token is never valid")
	}
	return d
}

// others returns every claim known does not name, decoded by decodeValue;
// nil when there are none, and for a refused token, whose claims are not
// returned.
func (c *check) others(known func(name string) bool) map[string]any {
	var m map[string]any
	if !c.accepted() {
		return nil
	}
	for _, mb := range c.p.claims.members {
		if known(mb.name) {
			continue
		}
		if m == nil {
			m = map[string]any{}
		}
		m[mb.name] = decodeValue(mb.raw)
	}
	return m
}

// sameNameHint points at a claim whose name differs from name only in case.
func (c *check) sameNameHint(name string) string {
	for _, m := range c.p.claims.members {
		if strings.EqualFold(m.name, name) {
			return fmt.Sprintf("; the token has %q, but claim names are case-sensitive", m.name)
		}
	}
	return ""
}
