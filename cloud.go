package qsjwt

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Fixed values and limits of Qlik Cloud tokens.
const (
	// CloudAudience is the only "aud" Qlik Cloud accepts.
	CloudAudience = "qlik.api/login/jwt-session"
	// CloudSubjectType is the only "subType" Qlik Cloud accepts.
	CloudSubjectType = "user"
	// CloudMaxLifetime is the most that exp - iat and exp - nbf may be.
	CloudMaxLifetime = time.Hour
	// DefaultCloudTTL is the default lifetime: the session cookie Qlik returns
	// does not depend on exp, so a short one is right.
	DefaultCloudTTL = 5 * time.Minute
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

// NewCloud checks the options and returns a Qlik Cloud token builder.
// [WithSigner], [WithIssuer] and [WithKeyID] are required; tokens are RS256,
// valid for [DefaultCloudTTL], with nbf [DefaultNotBeforeSkew] before iat.
// Every problem with the options is reported at once, each naming the
// option that fixes it.
//
// [WithPublicKey] and [WithClockSkew] configure a [CloudVerifier] and are
// ignored here, so that one set of options serves both.
func NewCloud(opts ...CloudOption) (*Cloud, error) {
	cfg := newCloudConfig("NewCloud", opts)
	ttl := cfg.ttl
	if ttl == 0 {
		ttl = DefaultCloudTTL
	}
	if ttl+cfg.nbfSkew > CloudMaxLifetime {
		option := "WithTTL"
		if cfg.nbfGiven && ttl <= CloudMaxLifetime {
			option = "WithNotBeforeSkew"
		}
		cfg.fail(option, "lifetime %v plus not-before skew %v exceeds Qlik Cloud's limit: exp - nbf must be at most %v", ttl, cfg.nbfSkew, CloudMaxLifetime)
	}
	if err := cfg.finish(DefaultCloudTTL); err != nil {
		return nil, err
	}
	return &Cloud{cfg: cfg}, nil
}

// newCloudConfig applies opts over the defaults and checks that the
// identity provider's issuer and key ID are given; constructor names the
// function for a nil option.
func newCloudConfig(constructor string, opts []CloudOption) cloudConfig {
	cfg := cloudConfig{nbfSkew: DefaultNotBeforeSkew, random: rand.Reader}
	for _, o := range opts {
		if o == nil {
			cfg.fail(constructor, "an option is nil")
			continue
		}
		o.applyCloud(&cfg)
	}
	if cfg.issuer == "" && !hasOption(cfg.errs, "WithIssuer") {
		cfg.fail("WithIssuer", "no issuer; give the issuer of the tenant's JWT identity provider")
	}
	if cfg.keyID == "" && !hasOption(cfg.errs, "WithKeyID") {
		cfg.fail("WithKeyID", "no key ID; give the Key ID of the tenant's JWT identity provider")
	}
	return cfg
}

// Algorithm returns the algorithm the tokens are signed with: RS256.
func (c *Cloud) Algorithm() Algorithm { return RS256 }

// Sign checks u against Qlik Cloud's rules and returns a signed token with a
// fresh jti. A claim the rules refuse gives a [*ClaimError]; a failing signer
// an error wrapping [ErrSigner], or ctx's error when ctx ended.
func (c *Cloud) Sign(ctx context.Context, u CloudUser) (Token, error) {
	if errs := checkCloudUser(u); len(errs) > 0 {
		return Token{}, errs[0]
	}
	var b [jtiBytes]byte
	if _, err := io.ReadFull(c.cfg.random, b[:]); err != nil {
		return Token{}, fmt.Errorf("qsjwt: reading random bytes for jti: %w", err)
	}
	jti := base64.RawURLEncoding.EncodeToString(b[:])
	now := c.cfg.now().Truncate(time.Second)
	exp := now.Add(c.cfg.ttl).Truncate(time.Second)
	claims := []engine.Claim{
		{Name: "iss", Value: c.cfg.issuer},
		{Name: "aud", Value: CloudAudience},
		{Name: "sub", Value: u.Subject},
		{Name: "subType", Value: CloudSubjectType},
		{Name: "name", Value: u.Name},
		{Name: "email", Value: u.Email},
		{Name: "email_verified", Value: u.EmailVerified},
		{Name: "jti", Value: jti},
		{Name: "iat", Value: now},
		{Name: "nbf", Value: now.Add(-c.cfg.nbfSkew)},
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
	return Token{Raw: raw, ID: jti, IssuedAt: now, ExpiresAt: exp}, nil
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
// every problem, in claim order: ErrMissingClaim for a claim Qlik Cloud
// requires, ErrInvalidClaim for a value qsjwt refuses to sign.
func checkCloudUser(u CloudUser) []*ClaimError {
	var errs []*ClaimError
	for _, r := range cloudUserClaims {
		switch v := r.value(u); {
		case v == "":
			errs = append(errs, &ClaimError{Claim: r.claim, Field: r.field, Reason: "is missing or empty; Qlik Cloud requires " + r.why, Err: ErrMissingClaim})
		case strings.TrimSpace(v) != v:
			errs = append(errs, &ClaimError{Claim: r.claim, Field: r.field, Reason: "has leading or trailing white space", Err: ErrInvalidClaim})
		}
	}
	if u.Email != "" && !strings.Contains(u.Email, "@") {
		errs = append(errs, &ClaimError{Claim: "email", Field: "CloudUser.Email", Reason: "is not an e-mail address (no @)", Err: ErrInvalidClaim})
	}
	if err := checkGroups("groups", "CloudUser.Groups", u.Groups); err != nil {
		errs = append(errs, err.(*ClaimError))
	}
	return errs
}

// Format prints the configuration, never key material.
func (c *Cloud) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.Cloud{alg: RS256, key: %s, iss: %q, kid: %q, ttl: %v, nbfSkew: %v}",
		describeKey(c.cfg.signer.Public()), c.cfg.issuer, c.cfg.keyID, c.cfg.ttl, c.cfg.nbfSkew)
}
