// Package qsjwt creates, signs and checks the JSON Web Tokens that Qlik Sense
// accepts, for client-managed Qlik Sense (QSEoW) and Qlik Cloud.
//
// # Builders
//
// Qlik Sense logs users in with a signed JWT in two variants, each with a
// builder that knows its rules:
//
//   - QSEoW: a virtual proxy with JWT authentication checks an
//     RS256/384/512 token carrying a user ID and a user directory under
//     claim names the admin chose. [NewQSEoW](signer, options...) makes the
//     builder; [QSEoW.Sign] signs a token for a [QSEoWUser].
//   - Qlik Cloud: a JWT identity provider checks an RS256 token with a fixed
//     set of claims, exchanged once at POST /login/jwt-session for a session.
//     [NewCloud](signer, issuer, keyID, options...) makes the builder;
//     [Cloud.Sign] signs a token, with a fresh jti, for a [CloudUser].
//
// What a builder cannot do without is a parameter; the rest are options.
// A builder checks everything when it is made and reports every problem at
// once, each an [*OptionError] naming the option or parameter that fixes it;
// Sign reports every claim problem of a user at once, each a [*ClaimError]
// naming the claim and the Go field. A built value is immutable and safe for
// concurrent use. A signed [Token] holds the compact JWT in Raw; printed or
// logged, it shows only its ID and times.
//
// # Options
//
// Each constructor takes its own option type, so an option it would not
// read does not compile there:
//
//	NewQSEoW(signer, ...QSEoWOption)                 WithAlgorithm, WithTTL, QSEoW shared, WithClock
//	NewQSEoWVerifier(key, ...QSEoWVerifierOption)    WithClockSkew, QSEoW shared, WithClock
//	NewCloud(signer, issuer, keyID, ...CloudOption)  WithNotBeforeSkew, WithTTL, WithClock
//	NewCloudVerifier(key, ...CloudVerifierOption)    WithIssuer, WithKeyID, WithClockSkew, WithClock
//	NewClientAssertion(signer, clientID, tenantURL, keyID, ...AssertionOption)
//	                                                 WithAlgorithm, WithTTL, WithClock
//	VerifyClientAssertion(token, jwk, clientID, tenantURL, ...VerifierOption)
//	                                                 WithClockSkew, WithClock
//
// The QSEoW shared options ([WithAudience], [WithUserIDClaim],
// [WithUserDirectoryClaim], [WithGroupsClaim]) configure a QSEoW builder and
// its verifier alike, as [WithClock] does all four; the types they return
// ([QSEoWSharedOption], [BuilderOption], [VerifierOption], [Option]) combine
// the interfaces of the constructors they fit. Nil options are ignored by
// every constructor.
//
// # OAuth client assertions
//
// A Qlik Cloud OAuth client may authenticate with Private Key JWT instead
// of a client secret: [NewClientAssertion] makes the builder, whose
// [ClientAssertion.Sign] signs a short-lived assertion (RS256, RS512, or
// ES384 with an ECDSA P-384 key) for POST /oauth/token, and whose
// [ClientAssertion.PublicJWK] is the key to register.
// [VerifyClientAssertion] checks one as the tenant does. Package session
// turns assertions or a client secret into access tokens.
//
// # Token sources
//
// A [TokenSource] gives tokens for one user to whatever sends them.
// [QSEoW.TokenSource] signs once per token lifetime and hands the same token
// to every caller; keep the source, since a new source per request signs per
// request. [Cloud.TokenSource] signs a new token per call: a Qlik Cloud
// token is good for one login, and no source of this package keeps one.
//
// # Verifiers
//
// [NewQSEoWVerifier] and [NewCloudVerifier] take the public key of the
// certificate Qlik holds and decide a token from any issuer as Qlik would,
// returning its claims or a [*VerifyError] that lists every problem, each
// naming the claim and Qlik's rule. [Decode] shows a token without a key,
// marked unverified.
//
// # Keys
//
// The builders sign through a [Signer]: a key in memory ([SignerFromPEM],
// [SignerFromPEMFile], [SignerFromCrypto]) or anything else that can
// produce a signature, such as a KMS, an HSM or a remote signing service
// ([SignerFunc]). [GenerateKey], [SelfSignedCertificate], [Thumbprint] and
// [WriteKeyFiles] make the key and the certificate Qlik is given;
// [ParseCertificate], [ParsePublicKey] and [ParseJWK] read the key a
// verifier checks with. Errors never contain key material.
//
// # Sessions, emulators and the CLI
//
// Package github.com/qsjwt/qsjwt/session takes a user from a token source to
// a working Qlik session: session.Cloud logs in to Qlik Cloud and keeps the
// session and its CSRF token; session.QSEoWTransport sends QSEoW requests with the
// token, the xrfkey and the proxy's session cookie. Package
// github.com/qsjwt/qsjwt/qliktest emulates a Qlik Cloud tenant and a QSEoW
// virtual proxy on loopback, for tests. The qs-jwt command
// (github.com/qsjwt/qsjwt/cmd/qs-jwt) creates, decodes and checks tokens and
// makes keys from the shell.
package qsjwt

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Algorithm is a JWS signature algorithm ("alg" header).
type Algorithm string

// The algorithms Qlik accepts. QSEoW accepts RS256, RS384 and RS512; Qlik
// Cloud accepts RS256 for logins, and RS256, RS512 or ES384 (ECDSA P-384)
// for OAuth client assertions ([NewClientAssertion]).
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	ES384 Algorithm = "ES384"
)

// Hash returns the hash function the algorithm signs with, or 0 for an
// algorithm qsjwt does not know.
func (a Algorithm) Hash() crypto.Hash {
	switch a {
	case RS256:
		return crypto.SHA256
	case RS384, ES384:
		return crypto.SHA384
	case RS512:
		return crypto.SHA512
	}
	return 0
}

// Token is a signed JWT and the times it carries. A Token is a live
// credential: formatted with fmt (any verb), logged with log/slog, or
// written with encoding/json (as JSON loggers do) it shows its ID and
// times, never the token itself, which is only in Raw: send t.Raw itself.
type Token struct {
	// Raw is the compact serialization: header.payload.signature. Send it,
	// never log it.
	Raw string
	// ID is the "jti" claim, empty for QSEoW tokens.
	ID string
	// IssuedAt and ExpiresAt are the "iat" and "exp" claims.
	IssuedAt, ExpiresAt time.Time
}

// String returns the redacted form of the token, as [Token.Format] does;
// the token itself is in Raw.
func (t Token) String() string { return fmt.Sprint(t) }

// Format prints the token redacted for every verb, e.g.
// qsjwt.Token{ID:"…", IssuedAt:…, ExpiresAt:…, Raw:[redacted]}.
func (t Token) Format(f fmt.State, _ rune) {
	raw := "[redacted]"
	if t.Raw == "" {
		raw = "[empty]"
	}
	fmt.Fprintf(f, "qsjwt.Token{ID:%q, IssuedAt:%s, ExpiresAt:%s, Raw:%s}", t.ID, formatTime(t.IssuedAt), formatTime(t.ExpiresAt), raw)
}

// LogValue gives log/slog the redacted token, so that neither a text nor
// a JSON handler writes Raw.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", t.ID), slog.Time("issuedAt", t.IssuedAt),
		slog.Time("expiresAt", t.ExpiresAt), slog.String("raw", "[redacted]"))
}

// MarshalJSON writes the redacted token, so that a logger or an error
// report that serialises structs as JSON never writes Raw. To send the
// token, send t.Raw.
func (t Token) MarshalJSON() ([]byte, error) {
	raw := "[redacted]"
	if t.Raw == "" {
		raw = "[empty]"
	}
	return json.Marshal(struct {
		ID        string    `json:"id,omitempty"`
		IssuedAt  time.Time `json:"issuedAt"`
		ExpiresAt time.Time `json:"expiresAt"`
		Raw       string    `json:"raw"`
	}{t.ID, t.IssuedAt, t.ExpiresAt, raw})
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return t.UTC().Format(time.RFC3339)
}

// Time bounds of the NumericDates the builders write: from 1970 to the end
// of year 9999, the range every JWT library and Qlik's Node.js reads.
const (
	minNumericDate = 0
	maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z
)

// addSeconds returns t + d in whole Unix seconds (d rounded down), or false
// when the result leaves [minNumericDate, maxNumericDate]. It cannot
// overflow.
func addSeconds(t int64, d time.Duration) (int64, bool) {
	s := int64(d / time.Second)
	if (s > 0 && t > math.MaxInt64-s) || (s < 0 && t < math.MinInt64-s) {
		return 0, false
	}
	r := t + s
	return r, r >= minNumericDate && r <= maxNumericDate
}

// tokenTimes returns iat, nbf (nbfSkew before iat) and exp (ttl after iat)
// of a token signed now, in whole seconds, or an *OptionError when one of
// them cannot be a NumericDate.
func tokenTimes(now time.Time, ttl, nbfSkew time.Duration) (iat, nbf, exp time.Time, err error) {
	i, ok := addSeconds(now.Unix(), 0)
	if !ok {
		return iat, nbf, exp, &OptionError{Option: "WithClock", Reason: fmt.Sprintf("the clock reads %s, outside the years 1970 to 9999 a token's times can carry", now.UTC().Format(time.RFC3339))}
	}
	n, ok := addSeconds(i, -nbfSkew)
	if !ok {
		return iat, nbf, exp, &OptionError{Option: "WithNotBeforeSkew", Reason: fmt.Sprintf("nbf = iat - %v falls before 1970", nbfSkew)}
	}
	e, ok := addSeconds(i, ttl)
	if !ok {
		return iat, nbf, exp, &OptionError{Option: "WithTTL", Reason: fmt.Sprintf("exp = iat + %v falls after year 9999; give a shorter lifetime", ttl)}
	}
	return time.Unix(i, 0).UTC(), time.Unix(n, 0).UTC(), time.Unix(e, 0).UTC(), nil
}

// Errors. A value the caller gave that the variant refuses is a
// [*ClaimError] (a user's claim) or an [*OptionError] (an option or a
// constructor's parameter): match them with errors.As. A key or a signer
// that fails wraps [ErrKey] or [ErrSigner]: match with errors.Is. A token a
// verifier refuses is a [*VerifyError], matched with errors.As too.
var (
	// ErrSigner: the signer failed or does not fit the algorithm.
	ErrSigner = errors.New("qsjwt: signer")
	// ErrKey: a key or certificate could not be used.
	ErrKey = errors.New("qsjwt: key")

	// The kinds of *ClaimError and *OptionError, for the package itself.
	errMissingClaim  = errors.New("qsjwt: missing claim")
	errInvalidClaim  = errors.New("qsjwt: invalid claim")
	errInvalidOption = errors.New("qsjwt: invalid option")
)

// ClaimError reports a claim that the variant's rules refuse.
type ClaimError struct {
	// Claim is the claim's name in the token, e.g. "sub" or "userId".
	Claim string
	// Field is the Go field that carries it, e.g. "CloudUser.Subject".
	Field string
	// Reason says what is wrong and what Qlik expects.
	Reason string

	err error // errMissingClaim or errInvalidClaim
}

func (e *ClaimError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("qsjwt: claim %q (%s): %s", e.Claim, e.Field, e.Reason)
	}
	return fmt.Sprintf("qsjwt: claim %q: %s", e.Claim, e.Reason)
}

// Unwrap returns whether the claim is missing or refused, as an error of
// the package's own; ask [ClaimError.Missing].
func (e *ClaimError) Unwrap() error { return e.err }

// Missing reports whether the claim is required and was not given (or
// empty), rather than given with a value the variant refuses.
func (e *ClaimError) Missing() bool { return e.err == errMissingClaim }

// OptionError reports an option, or a required parameter of a
// constructor, with a value the variant refuses.
type OptionError struct {
	// Option is the option that fixes the problem, e.g. "WithTTL", or the
	// parameter: "signer", "issuer" or "keyID" of a builder, "key" of a
	// verifier.
	Option string
	// Reason says what is wrong.
	Reason string
	// Cause is the error behind the problem, when there is one: for a key
	// the variant cannot use, an error wrapping [ErrKey].
	Cause error
}

func (e *OptionError) Error() string { return fmt.Sprintf("qsjwt: %s: %s", e.Option, e.Reason) }

// Unwrap returns the Cause, when there is one (for a key, an error wrapping
// [ErrKey]), so that errors.Is matches it.
func (e *OptionError) Unwrap() []error {
	if e.Cause != nil {
		return []error{errInvalidOption, e.Cause}
	}
	return []error{errInvalidOption}
}

// claimSet collects the claims of one token and refuses a name given twice,
// so that no attribute can overwrite a claim the variant sets.
type claimSet struct{ claims []engine.Claim }

func (s *claimSet) add(name, field string, value any) error {
	for _, c := range s.claims {
		if c.Name == name {
			return &ClaimError{Claim: name, Field: field, Reason: "is already set by another field or option; give each claim once", err: errInvalidClaim}
		}
	}
	s.claims = append(s.claims, engine.Claim{Name: name, Value: value})
	return nil
}

// sign signs the claims with the builder's signer. It is shared by both
// variants.
func (c *common) sign(ctx context.Context, alg Algorithm, kid string, claims []engine.Claim) (string, error) {
	return signToken(ctx, c.signer, alg, kid, claims)
}
