package qsjwt

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Fixed values and limits of Qlik Cloud tokens.
const (
	// CloudAudience is the only "aud" Qlik Cloud accepts.
	CloudAudience = "qlik.api/login/jwt-session"
	// cloudSubjectType is the only "subType" Qlik Cloud accepts.
	cloudSubjectType = "user"
	// CloudMaxLifetime is the most that exp - iat and exp - nbf may be.
	CloudMaxLifetime = time.Hour
	// defaultCloudTTL is the default lifetime: the session cookie Qlik returns
	// does not depend on exp, so a short one is right.
	defaultCloudTTL = 5 * time.Minute
	// jtiBytes is the number of random bytes in a jti: 128 bits.
	jtiBytes = 16
)

// Cloud signs tokens for a Qlik Cloud JWT identity provider, to be exchanged
// once at POST /login/jwt-session for a session. Make one with [NewCloud]; it
// is immutable and safe for concurrent use.
type Cloud struct {
	cfg cloudConfig
}

// CloudUser is the user a Qlik Cloud token logs in.
type CloudUser struct {
	// Subject ("sub") is the user's stable key in your system; required.
	// Qlik stores it as the user's subject: a different subject is a
	// different user (and a licence), so never generate it per token.
	Subject string
	// Name ("name", the display name) and Email ("email") are required.
	Name  string
	Email string
	// EmailVerified is written as the JSON boolean "email_verified".
	EmailVerified bool
	// Groups ("groups") are optional; omitted when empty. Qlik creates them
	// only when the tenant has group creation on.
	Groups []string
}

// NewCloud checks the signer, the identity provider's issuer and key ID
// (required: Qlik Cloud checks both, exactly) and the options, and returns a
// Qlik Cloud token builder. Tokens are RS256, valid for five minutes,
// with nbf [DefaultNotBeforeSkew] before iat. Every problem is reported at
// once, each an [*OptionError] naming the option (or "signer", "issuer",
// "keyID") that fixes it; a signer whose key Qlik cannot use also matches
// [ErrKey]. Nil options are ignored.
func NewCloud(signer Signer, issuer, keyID string, opts ...CloudOption) (*Cloud, error) {
	cfg := cloudConfig{nbfSkew: DefaultNotBeforeSkew, random: rand.Reader}
	cfg.checkSigner(signer)
	if why := checkValue(issuer); why != "" {
		cfg.fail("issuer", "the issuer %s; give the issuer of the tenant's JWT identity provider exactly", why)
	}
	if why := checkValue(keyID); why != "" {
		cfg.fail("keyID", "the key ID %s; give the Key ID of the tenant's JWT identity provider exactly", why)
	}
	cfg.issuer, cfg.keyID = issuer, keyID
	for _, o := range opts {
		if o != nil {
			o.applyCloud(&cfg)
		}
	}
	ttl := cfg.ttl
	if ttl == 0 {
		ttl = defaultCloudTTL
	}
	// Both are at most ten years here, so the sum cannot overflow; the
	// comparison is written without it all the same.
	if ttl > CloudMaxLifetime || cfg.nbfSkew > CloudMaxLifetime-ttl {
		option := "WithTTL"
		if cfg.nbfGiven && ttl <= CloudMaxLifetime {
			option = "WithNotBeforeSkew"
		}
		cfg.fail(option, "lifetime %v plus not-before skew %v exceeds Qlik Cloud's limit: exp - nbf must be at most %v", ttl, cfg.nbfSkew, CloudMaxLifetime)
	}
	if err := cfg.finish(defaultCloudTTL); err != nil {
		return nil, err
	}
	return &Cloud{cfg: cfg}, nil
}

// Algorithm returns the algorithm the tokens are signed with: RS256.
func (c *Cloud) Algorithm() Algorithm { return RS256 }

// Sign checks u against Qlik Cloud's rules and returns a signed token with a
// fresh jti. Claims the rules refuse give one [*ClaimError] each, joined
// with errors.Join; a clock whose time cannot be written gives an
// [*OptionError]; a failing signer an error wrapping [ErrSigner], or ctx's
// error when ctx ended.
func (c *Cloud) Sign(ctx context.Context, u CloudUser) (Token, error) {
	if errs := checkCloudUser(u); len(errs) > 0 {
		all := make([]error, len(errs))
		for i, e := range errs {
			all[i] = e
		}
		return Token{}, errors.Join(all...)
	}
	iat, nbf, exp, err := tokenTimes(c.cfg.now(), c.cfg.ttl, c.cfg.nbfSkew)
	if err != nil {
		return Token{}, err
	}
	var b [jtiBytes]byte
	if _, err := io.ReadFull(c.cfg.random, b[:]); err != nil {
		return Token{}, fmt.Errorf("qsjwt: reading random bytes for jti: %w", err)
	}
	jti := base64.RawURLEncoding.EncodeToString(b[:])
	claims := []engine.Claim{
		{Name: "iss", Value: c.cfg.issuer},
		{Name: "aud", Value: CloudAudience},
		{Name: "sub", Value: u.Subject},
		{Name: "subType", Value: cloudSubjectType},
		{Name: "name", Value: u.Name},
		{Name: "email", Value: u.Email},
		{Name: "email_verified", Value: u.EmailVerified},
		{Name: "jti", Value: jti},
		{Name: "iat", Value: iat},
		{Name: "nbf", Value: nbf},
		{Name: "exp", Value: exp},
		{Name: "groups", Value: u.Groups},
	}
	if len(u.Groups) == 0 {
		claims = claims[:len(claims)-1] // cut rather than append: no allocation
	}
	raw, err := c.cfg.sign(ctx, RS256, c.cfg.keyID, claims)
	if err != nil {
		return Token{}, err
	}
	return Token{Raw: raw, ID: jti, IssuedAt: iat, ExpiresAt: exp}, nil
}

// cloudUserClaims are the string claims of a Qlik Cloud user and what Qlik
// Cloud requires of each.
var cloudUserClaims = []struct {
	claim, field, why string
	value             func(CloudUser) string
}{
	{"sub", "CloudUser.Subject", "the user's stable key in your system (never random: a new sub is a new Qlik user)", func(u CloudUser) string { return u.Subject }},
	{"name", "CloudUser.Name", "the user's display name", func(u CloudUser) string { return u.Name }},
	{"email", "CloudUser.Email", "the user's e-mail address", func(u CloudUser) string { return u.Email }},
}

// checkCloudUser applies Qlik Cloud's rules to the user's claims and returns
// every problem, in claim order: errMissingClaim for a claim Qlik Cloud
// requires, errInvalidClaim for a value qsjwt refuses to sign.
func checkCloudUser(u CloudUser) []*ClaimError {
	var errs []*ClaimError
	for _, r := range cloudUserClaims {
		switch v := r.value(u); {
		case v == "":
			errs = append(errs, &ClaimError{Claim: r.claim, Field: r.field, Reason: "is missing or empty; Qlik Cloud requires " + r.why, err: errMissingClaim})
		case !utf8.ValidString(v):
			errs = append(errs, &ClaimError{Claim: r.claim, Field: r.field, Reason: invalidUTF8, err: errInvalidClaim})
		case strings.TrimSpace(v) != v:
			errs = append(errs, &ClaimError{Claim: r.claim, Field: r.field, Reason: "has leading or trailing white space", err: errInvalidClaim})
		}
	}
	if u.Email != "" && !strings.Contains(u.Email, "@") {
		errs = append(errs, &ClaimError{Claim: "email", Field: "CloudUser.Email", Reason: "is not an e-mail address (no @)", err: errInvalidClaim})
	}
	for _, err := range joinedErrors(checkGroups("groups", "CloudUser.Groups", u.Groups)) {
		errs = append(errs, err.(*ClaimError))
	}
	return errs
}

// Format prints the configuration, never key material.
func (c *Cloud) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.Cloud{alg: RS256, key: %s, iss: %q, kid: %q, ttl: %v, nbfSkew: %v}",
		describeKey(c.cfg.signer.Public()), c.cfg.issuer, c.cfg.keyID, c.cfg.ttl, c.cfg.nbfSkew)
}
