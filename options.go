package qsjwt

import (
	"crypto"
	"crypto/ecdh"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// The option types, one per constructor, and which options satisfy each,
// are listed in the package doc; a nil option is ignored everywhere.

// QSEoWOption configures [NewQSEoW].
type QSEoWOption interface {
	applyQSEoW(*qseowConfig)
}

// QSEoWVerifierOption configures [NewQSEoWVerifier].
type QSEoWVerifierOption interface {
	applyQSEoWVerifier(*qseowConfig)
}

// CloudOption configures [NewCloud].
type CloudOption interface {
	applyCloud(*cloudConfig)
}

// CloudVerifierOption configures [NewCloudVerifier].
type CloudVerifierOption interface {
	applyCloudVerifier(*cloudConfig)
}

// QSEoWSharedOption configures a QSEoW builder and a QSEoW verifier alike:
// [WithAudience], [WithUserIDClaim], [WithUserDirectoryClaim],
// [WithGroupsClaim].
type QSEoWSharedOption interface {
	QSEoWOption
	QSEoWVerifierOption
}

// BuilderOption configures any builder, the OAuth client assertion's
// included: [WithTTL].
type BuilderOption interface {
	QSEoWOption
	CloudOption
	AssertionOption
}

// AlgorithmOption configures the QSEoW builder and the OAuth client
// assertion builder: [WithAlgorithm].
type AlgorithmOption interface {
	QSEoWOption
	AssertionOption
}

// VerifierOption configures either verifier: [WithClockSkew].
type VerifierOption interface {
	QSEoWVerifierOption
	CloudVerifierOption
}

// Option configures both builders and both verifiers: [WithClock].
type Option interface {
	BuilderOption
	VerifierOption
}

// common is the configuration both variants share.
type common struct {
	signer Signer
	ttl    time.Duration // 0 means the variant's default
	now    func() time.Time
	errs   []error // problems found while applying options

	// Verifiers only.
	publicKey crypto.PublicKey
	skew      time.Duration
	skewGiven bool
}

func (c *common) fail(option, format string, args ...any) {
	c.errs = append(c.errs, &OptionError{Option: option, Reason: fmt.Sprintf(format, args...)})
}

// failWith records a problem whose cause stays reachable through errors.Is.
func (c *common) failWith(option string, cause error) {
	c.errs = append(c.errs, &OptionError{Option: option, Reason: strings.TrimPrefix(cause.Error(), "qsjwt: "), Cause: cause})
}

// The option values. Each concrete type has exactly the apply methods of the
// constructors it configures, so that not even a type assertion moves an
// option to a constructor that would not read it.
type (
	commonOpt struct {
		name  string
		value any
		set   func(*common)
	}
	qseowOpt struct {
		name  string
		value any
		set   func(*qseowConfig)
	}
	cloudOpt struct {
		name  string
		value any
		set   func(*cloudConfig)
	}
	allOpt          struct{ commonOpt } // builders and verifiers
	builderOpt      struct{ commonOpt } // both builders
	verifierOpt     struct{ commonOpt } // both verifiers
	qseowSharedOpt  struct{ qseowOpt }  // the QSEoW builder and verifier
	cloudBuilderOpt struct{ cloudOpt }  // the Cloud builder
	cloudVerifyOpt  struct{ cloudOpt }  // the Cloud verifier
)

func (o commonOpt) String() string { return fmt.Sprintf("%s(%v)", o.name, o.value) }
func (o qseowOpt) String() string  { return fmt.Sprintf("%s(%v)", o.name, o.value) }
func (o cloudOpt) String() string  { return fmt.Sprintf("%s(%v)", o.name, o.value) }

func (o allOpt) applyQSEoW(c *qseowConfig)         { o.set(&c.common) }
func (o allOpt) applyCloud(c *cloudConfig)         { o.set(&c.common) }
func (o allOpt) applyQSEoWVerifier(c *qseowConfig) { o.set(&c.common) }
func (o allOpt) applyCloudVerifier(c *cloudConfig) { o.set(&c.common) }

func (o builderOpt) applyQSEoW(c *qseowConfig)         { o.set(&c.common) }
func (o builderOpt) applyCloud(c *cloudConfig)         { o.set(&c.common) }
func (o builderOpt) applyAssertion(c *assertionConfig) { o.set(&c.common) }
func (o allOpt) applyAssertion(c *assertionConfig)     { o.set(&c.common) }

func (o verifierOpt) applyQSEoWVerifier(c *qseowConfig) { o.set(&c.common) }
func (o verifierOpt) applyCloudVerifier(c *cloudConfig) { o.set(&c.common) }

func (o qseowSharedOpt) applyQSEoW(c *qseowConfig)         { o.set(c) }
func (o qseowSharedOpt) applyQSEoWVerifier(c *qseowConfig) { o.set(c) }

func (o cloudBuilderOpt) applyCloud(c *cloudConfig) { o.set(c) }

func (o cloudVerifyOpt) applyCloudVerifier(c *cloudConfig) { o.set(c) }

// maxQSEoWTTL is the longest lifetime NewQSEoW accepts. The virtual
// proxy sets no maximum, but a bearer token that outlives any key rotation
// is a standing credential, and a longer one only hides a unit mistake.
const maxQSEoWTTL = 10 * 365 * 24 * time.Hour

// WithTTL sets how long each token is valid: exp = iat + ttl, in whole
// seconds. The default is one hour for QSEoW and five minutes for Qlik
// Cloud, where exp - nbf can never exceed one hour ([CloudMaxLifetime]); a
// QSEoW lifetime is at most ten years.
func WithTTL(ttl time.Duration) BuilderOption {
	return builderOpt{commonOpt{"WithTTL", ttl, func(c *common) {
		if ttl < time.Second {
			c.fail("WithTTL", "the lifetime %v is under one second; give a positive duration such as 5*time.Minute", ttl)
			return
		}
		c.ttl = ttl // each builder checks its own maximum
	}}}
}

// WithClock sets the time source: for a builder, of iat, nbf and exp; for a
// verifier, the "now" that exp, nbf and iat are checked against. The default
// is time.Now. Tests give a fixed clock.
func WithClock(now func() time.Time) Option {
	return allOpt{commonOpt{"WithClock", "func", func(c *common) {
		if now == nil {
			c.fail("WithClock", "the clock is nil")
			return
		}
		c.now = now
	}}}
}

// verifierKey returns the RSA public key a verifier checks signatures with,
// from an *rsa.PublicKey, an rsa.PublicKey or an *x509.Certificate.
func verifierKey(key crypto.PublicKey) (crypto.PublicKey, error) {
	why := ""
	switch k := key.(type) {
	case nil:
		why = "the public key is nil; give the certificate Qlik holds (qsjwt.ParseCertificate) or its public key"
	case *x509.Certificate:
		if k == nil {
			why = "the certificate is nil"
			break
		}
		key = k.PublicKey
	case rsa.PublicKey:
		key = &k
	case *ecdh.PrivateKey, interface{ Public() crypto.PublicKey }:
		why = fmt.Sprintf("a private key (%T) was given where the public key or certificate belongs; give the certificate Qlik holds, or its public key", key)
	case []byte, string:
		why = fmt.Sprintf("%T is not a key; parse the PEM with qsjwt.ParseCertificate or qsjwt.ParsePublicKey first", key)
	}
	if why != "" {
		return nil, &OptionError{Option: "key", Reason: why}
	}
	if err := checkPublicKey(key); err != nil {
		return nil, &OptionError{Option: "key", Reason: strings.TrimPrefix(err.Error(), "qsjwt: "), Cause: err}
	}
	return key, nil
}

// defaultClockSkew is how far a verifier lets exp, nbf and iat miss the
// current time: Qlik Cloud's default clockToleranceSec. The tolerance of a
// QSEoW virtual proxy is not documented; the same default is used.
const defaultClockSkew = 5 * time.Second

// maxClockSkew is the largest clockToleranceSec Qlik Cloud allows.
const maxClockSkew = 2 * time.Hour

// WithClockSkew sets how far a verifier lets exp, nbf and iat miss the current
// time (default five seconds): set it to the identity provider's
// clockToleranceSec for Qlik Cloud. Zero checks the times exactly; at most two
// hours, Qlik Cloud's upper limit. (For a Qlik Cloud builder,
// [WithNotBeforeSkew] sets nbf early instead.)
func WithClockSkew(d time.Duration) VerifierOption {
	return verifierOpt{commonOpt{"WithClockSkew", d, func(c *common) {
		switch {
		case d < 0:
			c.fail("WithClockSkew", "the skew %v is negative; give zero or more", d)
		case d > 0 && d < time.Second:
			c.fail("WithClockSkew", "the skew %v is under one second (a bare number is nanoseconds); write e.g. 5*time.Second", d)
		case d > maxClockSkew:
			c.fail("WithClockSkew", "the skew %v exceeds %v, the largest clockToleranceSec Qlik Cloud allows", d, maxClockSkew)
		default:
			c.skew, c.skewGiven = d, true
		}
	}}}
}

// qseowConfig is what the QSEoW options set.
type qseowConfig struct {
	common
	alg          Algorithm
	audience     string
	userIDClaim  string
	userDirClaim string
	groupsClaim  string
}

// qseowAlgorithms and cloudAlgorithms are the algorithms each variant
// accepts: what the builders may sign with and the verifiers' allow-lists.
var (
	qseowAlgorithms = []Algorithm{RS256, RS384, RS512}
	cloudAlgorithms = []Algorithm{RS256}
)

// WithAlgorithm sets the signature algorithm. For QSEoW: RS256 (the
// default), RS384 or RS512; the virtual proxy accepts all three, and so
// does a QSEoW verifier. For an OAuth client assertion: RS256 (the default
// with an RSA key) or RS512, or ES384 (the only one, and the default, with
// a P-384 key).
func WithAlgorithm(alg Algorithm) AlgorithmOption {
	return algorithmOpt{alg}
}

// algorithmOpt is WithAlgorithm: each builder checks alg against its own
// list.
type algorithmOpt struct{ alg Algorithm }

func (o algorithmOpt) String() string { return fmt.Sprintf("WithAlgorithm(%s)", o.alg) }

func (o algorithmOpt) applyQSEoW(c *qseowConfig) {
	if !slices.Contains(qseowAlgorithms, o.alg) {
		c.fail("WithAlgorithm", "%q is not accepted by a QSEoW virtual proxy; use RS256, RS384 or RS512", string(o.alg))
		return
	}
	c.alg = o.alg
}

func (o algorithmOpt) applyAssertion(c *assertionConfig) {
	if !slices.Contains(assertionAlgorithms, o.alg) {
		c.fail("WithAlgorithm", "%q is not accepted for a Qlik Cloud client assertion; use RS256 or RS512 (RSA key) or ES384 (P-384 key)", string(o.alg))
		return
	}
	c.alg = o.alg
}

// WithAudience sets the "aud" claim, as a plain string. Give it when the
// virtual proxy has a JWT audience set; it must match exactly. Without it the
// token carries no "aud". A verifier given it requires "aud" to be exactly
// this string; without it, a verifier does not check "aud", as the proxy.
func WithAudience(aud string) QSEoWSharedOption {
	return qseowSharedOpt{qseowOpt{"WithAudience", aud, func(c *qseowConfig) {
		if err := checkValue(aud); err != "" {
			c.fail("WithAudience", "the audience %s; give the virtual proxy's \"JWT audience\" exactly", err)
			return
		}
		c.audience = aud
	}}}
}

// WithUserIDClaim sets the name of the claim that carries the user ID: the
// virtual proxy's "JWT attribute for user ID" (case-sensitive). Default
// "userId"; Qlik's own samples use "user".
func WithUserIDClaim(name string) QSEoWSharedOption {
	return qseowClaimName("WithUserIDClaim", name, func(c *qseowConfig) { c.userIDClaim = name })
}

// WithUserDirectoryClaim sets the name of the claim that carries the user
// directory: the virtual proxy's "JWT attribute for user directory"
// (case-sensitive). Default "userDirectory"; Qlik's own samples use
// "directory".
func WithUserDirectoryClaim(name string) QSEoWSharedOption {
	return qseowClaimName("WithUserDirectoryClaim", name, func(c *qseowConfig) { c.userDirClaim = name })
}

// WithGroupsClaim sets the name of the claim that carries the groups, as the
// virtual proxy's attribute mapping reads it. Default "group".
func WithGroupsClaim(name string) QSEoWSharedOption {
	return qseowClaimName("WithGroupsClaim", name, func(c *qseowConfig) { c.groupsClaim = name })
}

func qseowClaimName(option, name string, set func(*qseowConfig)) QSEoWSharedOption {
	return qseowSharedOpt{qseowOpt{option, name, func(c *qseowConfig) {
		if err := checkClaimName(name); err != "" {
			c.fail(option, "claim name %s %s", quoteValue(name), err)
			return
		}
		set(c)
	}}}
}

// cloudConfig is what the Qlik Cloud options set.
type cloudConfig struct {
	common
	issuer   string
	keyID    string
	nbfSkew  time.Duration
	nbfGiven bool
	random   io.Reader // crypto/rand; tests replace it (export_test.go)
}

// WithIssuer makes a Qlik Cloud verifier require "iss" to be exactly iss:
// the issuer of the tenant's JWT identity provider. Without it the verifier
// does not check "iss" and says so in a warning. (A builder takes the
// issuer as a parameter of [NewCloud].)
func WithIssuer(iss string) CloudVerifierOption {
	return cloudVerifyOpt{cloudOpt{"WithIssuer", iss, func(c *cloudConfig) {
		if err := checkValue(iss); err != "" {
			c.fail("WithIssuer", "the issuer %s; give the identity provider's issuer exactly", err)
			return
		}
		c.issuer = iss
	}}}
}

// WithKeyID makes a Qlik Cloud verifier require the header "kid" to be
// exactly kid: the Key ID of the tenant's JWT identity provider. Without it
// the verifier does not check "kid" and says so in a warning. (A builder
// takes the key ID as a parameter of [NewCloud].)
func WithKeyID(kid string) CloudVerifierOption {
	return cloudVerifyOpt{cloudOpt{"WithKeyID", kid, func(c *cloudConfig) {
		if err := checkValue(kid); err != "" {
			c.fail("WithKeyID", "the key ID %s; give the identity provider's Key ID exactly", err)
			return
		}
		c.keyID = kid
	}}}
}

// DefaultNotBeforeSkew is how far "nbf" is set before "iat" for Qlik Cloud,
// so that a tenant whose clock runs behind ours still accepts the token.
const DefaultNotBeforeSkew = 5 * time.Second

// WithNotBeforeSkew sets how far "nbf" lies before "iat" (default
// [DefaultNotBeforeSkew]). It counts against the one-hour limit on exp - nbf.
func WithNotBeforeSkew(d time.Duration) CloudOption {
	return cloudBuilderOpt{cloudOpt{"WithNotBeforeSkew", d, func(c *cloudConfig) {
		switch {
		case d < 0:
			c.fail("WithNotBeforeSkew", "the skew %v is negative; nbf must not lie after iat", d)
		case d > CloudMaxLifetime:
			c.fail("WithNotBeforeSkew", "the skew %v exceeds Qlik Cloud's limit of %v on exp - nbf", d, CloudMaxLifetime)
		default:
			c.nbfSkew, c.nbfGiven = d, true
		}
	}}}
}

// checkSigner records a problem with the signer parameter of a builder.
func (c *common) checkSigner(s Signer) {
	if s == nil {
		c.fail("signer", "the signer is nil; give one from qsjwt.SignerFromPEMFile(\"privatekey.pem\"), SignerFromCrypto or SignerFunc")
		return
	}
	if err := checkKey(s.Public(), signerOrigin(s)); err != nil {
		c.failWith("signer", err)
		return
	}
	c.signer = s
}

// finish checks what both builders need once all options are applied and
// returns every problem found.
func (c *common) finish(defaultTTL time.Duration) error {
	if c.ttl == 0 {
		c.ttl = defaultTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	return errors.Join(c.errs...)
}

// finishVerifier checks the key of a verifier once all options are applied
// and returns every problem found.
func (c *common) finishVerifier(key crypto.PublicKey) error {
	pub, err := verifierKey(key)
	if err != nil {
		c.errs = append([]error{err}, c.errs...)
	}
	c.publicKey = pub
	if !c.skewGiven {
		c.skew = defaultClockSkew
	}
	if c.now == nil {
		c.now = time.Now
	}
	return errors.Join(c.errs...)
}

// registeredClaim reports whether name is a registered JWT claim name (RFC
// 7519), which a QSEoW attribute may not use.
func registeredClaim(name string) bool {
	switch name {
	case "iss", "sub", "aud", "exp", "nbf", "iat", "jti":
		return true
	}
	return false
}

// checkClaimName returns why name cannot be a QSEoW attribute name, or "".
func checkClaimName(name string) string {
	if why := checkValue(name); why != "" {
		return why
	}
	if why := engine.CheckClaimName(name); why != "" {
		return why
	}
	if registeredClaim(name) {
		return "is a registered JWT claim; Qlik reads user attributes from other names"
	}
	return ""
}

// checkValue returns why s cannot be a claim or option value, or "".
func checkValue(s string) string {
	switch {
	case s == "":
		return "is empty"
	case !utf8.ValidString(s):
		return invalidUTF8
	case strings.TrimSpace(s) != s:
		return "has leading or trailing white space"
	}
	return ""
}

// invalidUTF8 is the reason for a string that is not valid UTF-8: JSON
// would replace the bad bytes with U+FFFD, so that two different values
// became one.
const invalidUTF8 = "is not valid UTF-8; JSON would replace the bad bytes with U+FFFD, so that different values read the same"

// quoteValue quotes s for an error, or describes it when it is not UTF-8.
func quoteValue(s string) string {
	if !utf8.ValidString(s) {
		return "(not UTF-8)"
	}
	return fmt.Sprintf("%q", s)
}
