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

	"github.com/qsjwt/qsjwt/internal/engine"
)

// QSEoWOption configures [NewQSEoW] and [NewQSEoWVerifier]. Options made for
// Qlik Cloud only do not satisfy it, so giving one to NewQSEoW does not
// compile.
type QSEoWOption interface {
	applyQSEoW(*qseowConfig)
}

// CloudOption configures [NewCloud] and [NewCloudVerifier]. Options made for
// QSEoW only do not satisfy it, so giving one to NewCloud does not compile.
type CloudOption interface {
	applyCloud(*cloudConfig)
}

// Option configures either builder and either verifier: [WithSigner],
// [WithTTL], [WithClock], [WithPublicKey], [WithClockSkew].
type Option interface {
	QSEoWOption
	CloudOption
}

// common is the configuration both variants share.
type common struct {
	signer Signer
	ttl    time.Duration // 0 means the variant's default
	now    func() time.Time
	errs   []error // problems found while applying options

	// Verifiers only; the builders ignore them.
	publicKey crypto.PublicKey // WithPublicKey; nil means the signer's
	skew      time.Duration
	skewGiven bool
}

func (c *common) fail(option, format string, args ...any) {
	c.errs = append(c.errs, &OptionError{Option: option, Reason: fmt.Sprintf(format, args...)})
}

// option is an Option that records its name and value, so that options can
// be printed and compared.
type option struct {
	name  string
	value any
	apply func(*common)
}

func (o option) applyQSEoW(c *qseowConfig) { o.apply(&c.common) }
func (o option) applyCloud(c *cloudConfig) { o.apply(&c.common) }
func (o option) String() string            { return fmt.Sprintf("%s(%v)", o.name, o.value) }

// WithSigner sets the key that signs the tokens; required by the builders.
// Make one with [SignerFromPEMFile], [SignerFromPEM], [SignerFromCrypto] or
// [SignerFunc]. A verifier given no [WithPublicKey] checks signatures with the
// signer's public key.
func WithSigner(s Signer) Option {
	return option{"WithSigner", s, func(c *common) {
		if s == nil {
			c.fail("WithSigner", "the signer is nil")
			return
		}
		c.signer = s
	}}
}

// WithTTL sets how long each token is valid: exp = iat + ttl. The default is
// one hour for QSEoW and five minutes for Qlik Cloud, where exp - nbf can never
// exceed one hour.
func WithTTL(ttl time.Duration) Option {
	return option{"WithTTL", ttl, func(c *common) {
		if ttl < time.Second {
			c.fail("WithTTL", "the lifetime %v is under one second; give a positive duration such as 5*time.Minute", ttl)
			return
		}
		c.ttl = ttl
	}}
}

// WithClock sets the time source: for a builder, of iat, nbf and exp; for a
// verifier, the "now" that exp, nbf and iat are checked against. The default
// is time.Now. Tests give a fixed clock.
func WithClock(now func() time.Time) Option {
	return option{"WithClock", "func", func(c *common) {
		if now == nil {
			c.fail("WithClock", "the clock is nil")
			return
		}
		c.now = now
	}}
}

// WithPublicKey sets the key a verifier checks signatures with: the public
// key of the certificate Qlik holds (the virtual proxy's "JWT certificate" or
// the identity provider's certificate). Give an *rsa.PublicKey, e.g. from
// [ParsePublicKey] or [ParseJWK], or the *x509.Certificate itself, e.g. from
// [ParseCertificate]. A private key is refused: a verifier needs only the
// public half. Without WithPublicKey, a verifier uses the public key of
// [WithSigner]. Builders ignore this option.
func WithPublicKey(pub crypto.PublicKey) Option {
	return option{"WithPublicKey", describeKey(pub), func(c *common) {
		switch k := pub.(type) {
		case nil:
			c.fail("WithPublicKey", "the public key is nil")
			return
		case *x509.Certificate:
			if k == nil {
				c.fail("WithPublicKey", "the certificate is nil")
				return
			}
			pub = k.PublicKey
		case rsa.PublicKey:
			pub = &k
		case *ecdh.PrivateKey, interface{ Public() crypto.PublicKey }:
			c.fail("WithPublicKey", "private key given where the public key or certificate belongs (%T); give the certificate Qlik holds, or its public key", pub)
			return
		case []byte, string:
			c.fail("WithPublicKey", "%T is not a key; parse the PEM with qsjwt.ParseCertificate or qsjwt.ParsePublicKey first", pub)
			return
		}
		c.publicKey = pub
	}}
}

// DefaultClockSkew is how far a verifier lets exp, nbf and iat miss the
// current time: Qlik Cloud's default clockToleranceSec. The tolerance of a
// QSEoW virtual proxy is not documented; the same default is used.
const DefaultClockSkew = 5 * time.Second

// maxClockSkew is the largest clockToleranceSec Qlik Cloud allows.
const maxClockSkew = 2 * time.Hour

// WithClockSkew sets how far a verifier lets exp, nbf and iat miss the current
// time (default [DefaultClockSkew]): set it to the identity provider's
// clockToleranceSec for Qlik Cloud. Zero checks the times exactly; at most two
// hours, Qlik Cloud's upper limit. Builders ignore this option (for Qlik
// Cloud, [WithNotBeforeSkew] sets nbf early instead).
func WithClockSkew(d time.Duration) Option {
	return option{"WithClockSkew", d, func(c *common) {
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
	}}
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

type qseowOption struct {
	name  string
	value any
	apply func(*qseowConfig)
}

func (o qseowOption) applyQSEoW(c *qseowConfig) { o.apply(c) }
func (o qseowOption) String() string            { return fmt.Sprintf("%s(%v)", o.name, o.value) }

// qseowAlgorithms and cloudAlgorithms are the algorithms each variant
// accepts: what the builders may sign with and the verifiers' allow-lists.
var (
	qseowAlgorithms = []Algorithm{RS256, RS384, RS512}
	cloudAlgorithms = []Algorithm{RS256}
)

// WithAlgorithm sets the QSEoW signature algorithm: RS256 (the default), RS384
// or RS512. The virtual proxy accepts all three, and so does a QSEoW verifier
// whatever this option says.
func WithAlgorithm(alg Algorithm) QSEoWOption {
	return qseowOption{"WithAlgorithm", alg, func(c *qseowConfig) {
		if !slices.Contains(qseowAlgorithms, alg) {
			c.fail("WithAlgorithm", "%q is not accepted by a QSEoW virtual proxy; use RS256, RS384 or RS512", string(alg))
			return
		}
		c.alg = alg
	}}
}

// WithAudience sets the "aud" claim, as a plain string. Give it when the
// virtual proxy has a JWT audience set; it must match exactly. Without it the
// token carries no "aud". A verifier given it requires "aud" to be exactly
// this string; without it, a verifier does not check "aud", as the proxy.
func WithAudience(aud string) QSEoWOption {
	return qseowOption{"WithAudience", aud, func(c *qseowConfig) {
		if err := checkValue(aud); err != "" {
			c.fail("WithAudience", "the audience %s; give the virtual proxy's \"JWT audience\" exactly", err)
			return
		}
		c.audience = aud
	}}
}

// WithUserIDClaim sets the name of the claim that carries the user ID: the
// virtual proxy's "JWT attribute for user ID" (case-sensitive). Default
// "userId"; Qlik's own samples use "user".
func WithUserIDClaim(name string) QSEoWOption {
	return qseowClaimName("WithUserIDClaim", name, func(c *qseowConfig) { c.userIDClaim = name })
}

// WithUserDirectoryClaim sets the name of the claim that carries the user
// directory: the virtual proxy's "JWT attribute for user directory"
// (case-sensitive). Default "userDirectory"; Qlik's own samples use
// "directory".
func WithUserDirectoryClaim(name string) QSEoWOption {
	return qseowClaimName("WithUserDirectoryClaim", name, func(c *qseowConfig) { c.userDirClaim = name })
}

// WithGroupsClaim sets the name of the claim that carries the groups, as the
// virtual proxy's attribute mapping reads it. Default "group".
func WithGroupsClaim(name string) QSEoWOption {
	return qseowClaimName("WithGroupsClaim", name, func(c *qseowConfig) { c.groupsClaim = name })
}

func qseowClaimName(option, name string, set func(*qseowConfig)) QSEoWOption {
	return qseowOption{option, name, func(c *qseowConfig) {
		if err := checkClaimName(name); err != "" {
			c.fail(option, "claim name %q %s", name, err)
			return
		}
		set(c)
	}}
}

// cloudConfig is what the Qlik Cloud options set.
type cloudConfig struct {
	common
	issuer   string
	keyID    string
	nbfSkew  time.Duration
	nbfGiven bool
	random   io.Reader
}

type cloudOption struct {
	name  string
	value any
	apply func(*cloudConfig)
}

func (o cloudOption) applyCloud(c *cloudConfig) { o.apply(c) }
func (o cloudOption) String() string            { return fmt.Sprintf("%s(%v)", o.name, o.value) }

// WithIssuer sets the "iss" claim: the issuer of the tenant's JWT identity
// provider, exactly as configured there; required. A verifier requires "iss"
// to be exactly this string.
func WithIssuer(iss string) CloudOption {
	return cloudOption{"WithIssuer", iss, func(c *cloudConfig) {
		if err := checkValue(iss); err != "" {
			c.fail("WithIssuer", "the issuer %s; give the identity provider's issuer exactly", err)
			return
		}
		c.issuer = iss
	}}
}

// WithKeyID sets the header "kid": the Key ID of the tenant's JWT identity
// provider; required. A verifier requires "kid" to be exactly this string.
func WithKeyID(kid string) CloudOption {
	return cloudOption{"WithKeyID", kid, func(c *cloudConfig) {
		if err := checkValue(kid); err != "" {
			c.fail("WithKeyID", "the key ID %s; give the identity provider's Key ID exactly", err)
			return
		}
		c.keyID = kid
	}}
}

// DefaultNotBeforeSkew is how far "nbf" is set before "iat" for Qlik Cloud,
// so that a tenant whose clock runs behind ours still accepts the token.
const DefaultNotBeforeSkew = 5 * time.Second

// WithNotBeforeSkew sets how far "nbf" lies before "iat" (default
// [DefaultNotBeforeSkew]). It counts against the one-hour limit on exp - nbf.
func WithNotBeforeSkew(d time.Duration) CloudOption {
	return cloudOption{"WithNotBeforeSkew", d, func(c *cloudConfig) {
		if d < 0 {
			c.fail("WithNotBeforeSkew", "the skew %v is negative; nbf must not lie after iat", d)
			return
		}
		c.nbfSkew, c.nbfGiven = d, true
	}}
}

// WithRandom sets the source of the random "jti" (default crypto/rand). Only
// tests should give another: Qlik refuses a reused jti.
func WithRandom(r io.Reader) CloudOption {
	return cloudOption{"WithRandom", "reader", func(c *cloudConfig) {
		if r == nil {
			c.fail("WithRandom", "the reader is nil")
			return
		}
		c.random = r
	}}
}

// finish checks what both variants need once all options are applied and
// returns every problem found.
func (c *common) finish(defaultTTL time.Duration) error {
	if c.signer == nil && !hasOption(c.errs, "WithSigner") {
		c.fail("WithSigner", "no signer; give WithSigner(qsjwt.SignerFromPEMFile(\"privatekey.pem\")) or another Signer")
	}
	if c.signer != nil {
		if err := checkPublicKey(c.signer.Public()); err != nil {
			c.fail("WithSigner", "%v", strings.TrimPrefix(err.Error(), "qsjwt: "))
		}
	}
	if c.ttl == 0 {
		c.ttl = defaultTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	return errors.Join(c.errs...)
}

// finishVerifier checks what both verifiers need once all options are
// applied and returns every problem found. The key is WithPublicKey's, or
// else the public key of WithSigner; if both are given they must agree.
func (c *common) finishVerifier() error {
	option := "WithPublicKey"
	switch {
	case c.publicKey == nil && c.signer != nil:
		c.publicKey, option = c.signer.Public(), "WithSigner"
	case c.publicKey != nil && c.signer != nil:
		if k, ok := c.publicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(c.signer.Public()) {
			c.fail("WithPublicKey", "the key (%s) is not the public key of WithSigner's signer (%s); give one of them",
				describeKey(c.publicKey), describeKey(c.signer.Public()))
		}
	case c.publicKey == nil && !hasOption(c.errs, "WithPublicKey") && !hasOption(c.errs, "WithSigner"):
		c.fail("WithPublicKey", "no key to verify with; give WithPublicKey with the certificate Qlik holds (qsjwt.ParseCertificate) or its public key")
	}
	if c.publicKey != nil {
		if err := checkPublicKey(c.publicKey); err != nil {
			c.fail(option, "%v", strings.TrimPrefix(err.Error(), "qsjwt: "))
		}
	}
	if !c.skewGiven {
		c.skew = DefaultClockSkew
	}
	if c.now == nil {
		c.now = time.Now
	}
	return errors.Join(c.errs...)
}

func hasOption(errs []error, option string) bool {
	for _, err := range errs {
		var oe *OptionError
		if errors.As(err, &oe) && oe.Option == option {
			return true
		}
	}
	return false
}

// registeredClaims are the registered JWT claim names (RFC 7519); a QSEoW
// attribute may not use them.
var registeredClaims = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// checkClaimName returns why name cannot be a QSEoW attribute name, or "".
func checkClaimName(name string) string {
	if why := checkValue(name); why != "" {
		return why
	}
	if why := engine.CheckClaimName(name); why != "" {
		return why
	}
	if registeredClaims[name] {
		return "is a registered JWT claim; Qlik reads user attributes from other names"
	}
	return ""
}

// checkValue returns why s cannot be a claim or option value, or "".
func checkValue(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.TrimSpace(s) != s:
		return "has leading or trailing white space"
	}
	return ""
}
