// Package qsjwt creates and signs the JSON Web Tokens that Qlik Sense accepts.
//
// Qlik Sense logs users in with a signed JWT in two variants, each with a
// builder that knows its rules:
//
//   - Client-managed Qlik Sense (QSEoW): a virtual proxy with JWT
//     authentication checks an RS256/384/512 token carrying a user ID and a
//     user directory under claim names the admin chose. Build with [NewQSEoW].
//   - Qlik Cloud: a JWT identity provider checks an RS256 token with a fixed
//     set of claims, exchanged once at POST /login/jwt-session for a session.
//     Build with [NewCloud].
//
// Both builders take functional options, check the whole configuration when
// they are made (reporting every problem, each naming the option that fixes
// it), and sign through a [Signer]: a key in memory ([SignerFromPEM],
// [SignerFromPEMFile], [SignerFromCrypto]) or anything else that can produce
// a signature, such as a KMS, an HSM or a remote signing service
// ([SignerFunc]). A built value is immutable and safe for concurrent use.
//
// Sign checks the user's claims against the variant's rules before signing
// and returns a [*ClaimError] naming the claim and the reason when one is
// wrong.
//
// The verifiers, [NewQSEoWVerifier] and [NewCloudVerifier], take the same
// options and decide a token from any issuer as Qlik would, returning its
// claims or a [*VerifyError] that lists every problem; [Decode] shows a token
// without a key, marked unverified.
package qsjwt

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Algorithm is a JWS signature algorithm ("alg" header).
type Algorithm string

// The algorithms Qlik accepts. QSEoW accepts RS256, RS384 and RS512; Qlik
// Cloud accepts RS256.
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
)

// Hash returns the hash function the algorithm signs with, or 0 for an
// algorithm qsjwt does not know.
func (a Algorithm) Hash() crypto.Hash {
	switch a {
	case RS256:
		return crypto.SHA256
	case RS384:
		return crypto.SHA384
	case RS512:
		return crypto.SHA512
	}
	return 0
}

// Token is a signed JWT and the times it carries.
type Token struct {
	// Raw is the compact serialization: header.payload.signature.
	Raw string
	// ID is the "jti" claim, empty for QSEoW tokens.
	ID string
	// IssuedAt and ExpiresAt are the "iat" and "exp" claims.
	IssuedAt, ExpiresAt time.Time
}

// String returns the compact serialization.
func (t Token) String() string { return t.Raw }

// Sentinel errors. Errors returned by this package wrap one of them; match
// with errors.Is.
var (
	// ErrMissingClaim: a claim the variant requires is empty.
	ErrMissingClaim = errors.New("qsjwt: missing claim")
	// ErrInvalidClaim: a claim has a value the variant refuses.
	ErrInvalidClaim = errors.New("qsjwt: invalid claim")
	// ErrInvalidOption: a builder option has a value the variant refuses.
	ErrInvalidOption = errors.New("qsjwt: invalid option")
	// ErrSigner: the signer failed or does not fit the algorithm.
	ErrSigner = errors.New("qsjwt: signer")
	// ErrKey: a key or certificate could not be used.
	ErrKey = errors.New("qsjwt: key")
)

// ClaimError reports a claim that the variant's rules refuse.
type ClaimError struct {
	// Claim is the claim's name in the token, e.g. "sub" or "userId".
	Claim string
	// Field is the Go field that carries it, e.g. "CloudUser.Subject".
	Field string
	// Reason says what is wrong and what Qlik expects.
	Reason string
	// Err is ErrMissingClaim or ErrInvalidClaim.
	Err error
}

func (e *ClaimError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("qsjwt: claim %q (%s): %s", e.Claim, e.Field, e.Reason)
	}
	return fmt.Sprintf("qsjwt: claim %q: %s", e.Claim, e.Reason)
}

// Unwrap returns the sentinel, ErrMissingClaim or ErrInvalidClaim.
func (e *ClaimError) Unwrap() error { return e.Err }

// OptionError reports a builder option with a value the variant refuses.
type OptionError struct {
	// Option is the option that fixes the problem, e.g. "WithIssuer".
	Option string
	// Reason says what is wrong.
	Reason string
}

func (e *OptionError) Error() string { return fmt.Sprintf("qsjwt: %s: %s", e.Option, e.Reason) }

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// claimSet collects the claims of one token and refuses a name given twice,
// so that no attribute can overwrite a claim the variant sets.
type claimSet struct{ claims []engine.Claim }

func (s *claimSet) add(name, field string, value any) error {
	for _, c := range s.claims {
		if c.Name == name {
			return &ClaimError{Claim: name, Field: field, Reason: "is already set by another field or option; give each claim once", Err: ErrInvalidClaim}
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
