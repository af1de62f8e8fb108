package qsjwt

// This file builds the third token qsjwt signs: the client assertion of an
// OAuth client of Qlik Cloud (Private Key JWT, RFC 7523), sent to
// POST /oauth/token in place of a client secret.

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Limits of a Qlik Cloud client assertion (docs/qlik-rules.md, O-* rows).
const (
	// assertionMaxLifetime is the most exp - iat may be.
	assertionMaxLifetime = 5 * time.Minute
	// defaultAssertionTTL is the default lifetime: an assertion is sent at
	// once and used once.
	defaultAssertionTTL = time.Minute
)

// assertionAlgorithms are the algorithms Qlik Cloud takes for assertions.
var assertionAlgorithms = []Algorithm{RS256, RS512, ES384}

// AssertionOption configures [NewClientAssertion]: [WithAlgorithm],
// [WithTTL], [WithClock].
type AssertionOption interface {
	applyAssertion(*assertionConfig)
}

// assertionConfig is what the assertion options set.
type assertionConfig struct {
	common
	alg                       Algorithm
	clientID, audience, keyID string
	random                    io.Reader // crypto/rand; tests may replace it
}

// ClientAssertion signs the client assertions of one Qlik Cloud OAuth
// client: a JWT with iss = sub = the client ID, aud = the tenant's token
// endpoint, a fresh UUID jti, iat and exp, sent to POST /oauth/token with
// client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer
// in place of the client secret. Make one with [NewClientAssertion]; it is
// immutable and safe for concurrent use. Package session's OAuth token
// source sends the assertions for you.
type ClientAssertion struct {
	cfg assertionConfig
}

// NewClientAssertion checks the signer, the OAuth client ID, the tenant URL
// (such as https://tenant.eu.qlikcloud.com: https, a host and nothing else)
// and the key ID the client registered with the public key (required: Qlik
// Cloud finds the key by it), and returns the assertion builder. The
// algorithm follows from the key: RS256 for RSA of at least 2048 bits (RS512
// with [WithAlgorithm]), ES384 for an ECDSA P-384 key; any other key is
// refused. Assertions live one minute unless [WithTTL] says otherwise, at
// most [assertionMaxLifetime]. Every problem is reported at once, each an
// [*OptionError] naming the parameter ("signer", "clientID", "tenantURL",
// "keyID") or option that fixes it. Nil options are ignored.
func NewClientAssertion(signer Signer, clientID, tenantURL, keyID string, opts ...AssertionOption) (*ClientAssertion, error) {
	cfg := assertionConfig{random: rand.Reader}
	keyAlg := Algorithm("")
	switch {
	case signer == nil:
		cfg.fail("signer", "the signer is nil; give one from qsjwt.SignerFromPEMFile(\"privatekey.pem\"), SignerFromCrypto or SignerFunc")
	case isP384(signer.Public()):
		cfg.signer, keyAlg = signer, ES384
	default:
		if _, isEC := signer.Public().(*ecdsa.PublicKey); isEC {
			cfg.failWith("signer", fmt.Errorf("%w: an ECDSA key on %s; Qlik Cloud client assertions take ECDSA on P-384 only (ES384), "+
				"or RSA of at least %d bits: make a P-384 key with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384`",
				ErrKey, strings.TrimPrefix(describeKey(signer.Public()), "ECDSA "), MinRSABits))
		} else if err := checkKey(signer.Public(), signerOrigin(signer)); err != nil {
			cfg.failWith("signer", err)
		} else {
			cfg.signer, keyAlg = signer, RS256
		}
	}
	if why := checkValue(clientID); why != "" {
		cfg.fail("clientID", "the client ID %s; give the ID of the tenant's OAuth client exactly", why)
	}
	aud, why := assertionAudience(tenantURL)
	if why != "" {
		cfg.fail("tenantURL", "%s", why)
	}
	if why := checkValue(keyID); why != "" {
		cfg.fail("keyID", "the key ID %s; give the kid of the JWK registered with the OAuth client", why)
	}
	cfg.clientID, cfg.audience, cfg.keyID = clientID, aud, keyID
	for _, o := range opts {
		if o != nil {
			o.applyAssertion(&cfg)
		}
	}
	switch {
	case keyAlg == "":
	case cfg.alg == "":
		cfg.alg = keyAlg
	case (cfg.alg == ES384) != (keyAlg == ES384):
		cfg.fail("WithAlgorithm", "%s does not fit the signer's %s key; use %s", cfg.alg, describeKey(signer.Public()),
			map[Algorithm]string{RS256: "RS256 or RS512", ES384: "ES384"}[keyAlg])
	}
	if cfg.ttl > assertionMaxLifetime {
		cfg.fail("WithTTL", "the lifetime %v exceeds Qlik Cloud's limit for client assertions: exp - iat must be at most %v", cfg.ttl, assertionMaxLifetime)
	}
	if err := cfg.finish(defaultAssertionTTL); err != nil {
		return nil, err
	}
	return &ClientAssertion{cfg: cfg}, nil
}

// assertionAudience returns the assertion's aud for a tenant URL,
// https://<host>/oauth/token, or why the URL cannot give one.
func assertionAudience(tenantURL string) (aud, why string) {
	const example = "such as https://tenant.eu.qlikcloud.com"
	if why := checkValue(tenantURL); why != "" {
		return "", "the tenant URL " + why + "; give the tenant's base URL, " + example
	}
	u, err := url.Parse(tenantURL)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", fmt.Sprintf("%s is not a URL with a host; give the tenant's base URL, %s", quoteValue(tenantURL), example)
	case u.Scheme != "https":
		return "", fmt.Sprintf("the tenant URL has scheme %q; Qlik Cloud's token endpoint is https only", u.Scheme)
	case u.User != nil:
		return "", "the tenant URL holds user information; give the tenant's base URL only, " + example
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(tenantURL, "#"):
		return "", "the tenant URL has a query or fragment; give the tenant's base URL only, " + example
	case strings.TrimSuffix(u.Path, "/oauth/token") != u.Path:
		return "", "the tenant URL is the token endpoint; give the tenant's base URL (the /oauth/token path is added), " + example
	case u.Path != "" && u.Path != "/":
		return "", fmt.Sprintf("the tenant URL has the path %q; give the tenant's base URL only, %s", u.Path, example)
	}
	return "https://" + strings.ToLower(u.Host) + "/oauth/token", ""
}

// ClientID returns the OAuth client ID the assertions carry as iss and sub.
func (a *ClientAssertion) ClientID() string { return a.cfg.clientID }

// Algorithm returns the algorithm the assertions are signed with.
func (a *ClientAssertion) Algorithm() Algorithm { return a.cfg.alg }

// Audience returns the assertions' aud, the tenant's token endpoint:
// https://<tenant host>/oauth/token.
func (a *ClientAssertion) Audience() string { return a.cfg.audience }

// Sign returns a new assertion, with a fresh UUID jti: send each one once.
// A clock whose time cannot be written gives an [*OptionError]; a failing
// signer an error wrapping [ErrSigner], or ctx's error when ctx ended.
func (a *ClientAssertion) Sign(ctx context.Context) (Token, error) {
	iat, _, exp, err := tokenTimes(a.cfg.now(), a.cfg.ttl, 0)
	if err != nil {
		return Token{}, err
	}
	jti, err := uuid4(a.cfg.random)
	if err != nil {
		return Token{}, err
	}
	claims := []engine.Claim{
		{Name: "iss", Value: a.cfg.clientID},
		{Name: "sub", Value: a.cfg.clientID},
		{Name: "aud", Value: a.cfg.audience},
		{Name: "jti", Value: jti},
		{Name: "iat", Value: iat},
		{Name: "exp", Value: exp},
	}
	raw, err := a.cfg.sign(ctx, a.cfg.alg, a.cfg.keyID, claims)
	if err != nil {
		return Token{}, err
	}
	return Token{Raw: raw, ID: jti, IssuedAt: iat, ExpiresAt: exp}, nil
}

// PublicJWK returns the public key as the JSON Web Key to register with the
// OAuth client (its publicKeys): kid and alg are the assertions', "use" is
// "sig"; RSA keys give kty RSA with n and e, P-384 keys kty EC with crv,
// x and y. It holds no private member.
func (a *ClientAssertion) PublicJWK() ([]byte, error) {
	data, err := engine.AssertionJWK(a.cfg.signer.Public(), a.cfg.keyID, string(a.cfg.alg))
	if err != nil {
		return nil, keyError(nil, "%v", err)
	}
	return data, nil
}

// Format prints the configuration, never key material.
func (a *ClientAssertion) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.ClientAssertion{alg: %s, key: %s, client: %q, aud: %q, kid: %q, ttl: %v}",
		a.cfg.alg, describeKey(a.cfg.signer.Public()), a.cfg.clientID, a.cfg.audience, a.cfg.keyID, a.cfg.ttl)
}

// uuid4 returns a random (version 4) UUID read from random, as RFC 9562
// lays it out.
func uuid4(random io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("qsjwt: reading random bytes for jti: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0x0f])
	}
	return string(out), nil
}
