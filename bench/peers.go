package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/internal/engine"
)

// The token every library makes and checks: a Qlik Cloud token, RS256 with a
// 2048-bit key, the claims qsjwt's Cloud builder writes, at a fixed time.
const (
	issuer   = "tenant.eu.qlikcloud.com"
	keyID    = "kid"
	audience = qsjwt.CloudAudience
)

var (
	now    = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	user   = qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true, Groups: []string{"g1"}}
	qseowU = qsjwt.QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna", Name: "Anna Andersson", Email: "anna@example.com", Groups: []string{"g1", "group 2"}}
)

func clock() time.Time { return now }

// newJTI is a fresh 128-bit jti, as every library's caller must make one for
// Qlik Cloud (qsjwt's builder makes its own).
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// candidate is one way of signing or verifying, run interleaved with raw.
type candidate struct {
	name string
	peer bool // a peer library, compared against in the table's last columns
	run  func() error
}

// setup holds the key and a token signed by qsjwt, shared by all candidates.
type setup struct {
	key   *rsa.PrivateKey
	token string
	input []byte // signing input of token
	sig   []byte // signature of token
}

func loadKey() (*rsa.PrivateKey, error) {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "test-only-rsa2048-pkcs8.pem"))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block in the test key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	return k.(*rsa.PrivateKey), nil
}

func newSetup() (*setup, error) {
	key, err := loadKey()
	if err != nil {
		return nil, err
	}
	c, err := qsjwtCloud(key)
	if err != nil {
		return nil, err
	}
	tok, err := c.Sign(context.Background(), user)
	if err != nil {
		return nil, err
	}
	s := &setup{key: key, token: tok.Raw}
	cp, err := engine.ParseCompact(tok.Raw)
	if err != nil {
		return nil, err
	}
	s.input, s.sig = cp.SigningInput, cp.Signature
	return s, nil
}

// The builders and verifiers are made here, the one place that calls the
// qsjwt constructors.
func qsjwtSigner(key *rsa.PrivateKey) (qsjwt.Signer, error) { return qsjwt.SignerFromCrypto(key) }

func qsjwtCloud(key *rsa.PrivateKey) (*qsjwt.Cloud, error) {
	s, err := qsjwtSigner(key)
	if err != nil {
		return nil, err
	}
	return qsjwt.NewCloud(s, issuer, keyID, qsjwt.WithClock(clock))
}

func qsjwtQSEoW(key *rsa.PrivateKey) (*qsjwt.QSEoW, error) {
	s, err := qsjwtSigner(key)
	if err != nil {
		return nil, err
	}
	return qsjwt.NewQSEoW(s, qsjwt.WithAudience("hdJh34wkK"), qsjwt.WithClock(clock))
}

func qsjwtCloudVerifier(pub *rsa.PublicKey) (*qsjwt.CloudVerifier, error) {
	return qsjwt.NewCloudVerifier(pub, qsjwt.WithIssuer(issuer), qsjwt.WithKeyID(keyID), qsjwt.WithClock(clock))
}

// signers returns raw and the signing candidates, each making the Cloud
// token (QSEoW: the QSEoW token) with a fresh jti.
func signers(s *setup) (raw func() error, cands []candidate, err error) {
	key := s.key
	raw = func() error {
		sum := sha256.Sum256(s.input)
		_, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		return err
	}
	c, err := qsjwtCloud(key)
	if err != nil {
		return nil, nil, err
	}
	q, err := qsjwtQSEoW(key)
	if err != nil {
		return nil, nil, err
	}
	joseSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID))
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	rawAgain := raw
	cands = []candidate{
		{"raw again (control)", false, func() error { return rawAgain() }},
		{"qsjwt Cloud", false, func() error { _, err := c.Sign(ctx, user); return err }},
		{"qsjwt QSEoW", false, func() error { _, err := q.Sign(ctx, qseowU); return err }},
		{"engine (hand-built)", false, func() error { _, err := engineSign(key); return err }},
		{"golang-jwt/v5", true, func() error { _, err := golangJWTSign(key); return err }},
		{"go-jose/v4", true, func() error { _, err := joseSign(joseSigner); return err }},
		{"jwx/v2", true, func() error { _, err := jwxSign(key); return err }},
	}
	return raw, cands, nil
}

// cloudMap is the Cloud token's claims as a map, for the peers' map APIs.
func cloudMap() map[string]any {
	return map[string]any{
		"iss": issuer, "aud": audience, "sub": user.Subject, "subType": "user", "name": user.Name,
		"email": user.Email, "email_verified": true, "jti": newJTI(),
		"iat": now.Unix(), "nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(5 * time.Minute).Unix(), "groups": user.Groups,
	}
}

// engineSign is the hand-built path with no qsjwt builder around it.
func engineSign(key *rsa.PrivateKey) (string, error) {
	claims := []engine.Claim{
		{Name: "iss", Value: issuer}, {Name: "aud", Value: audience}, {Name: "sub", Value: user.Subject},
		{Name: "subType", Value: "user"}, {Name: "name", Value: user.Name}, {Name: "email", Value: user.Email},
		{Name: "email_verified", Value: true}, {Name: "jti", Value: newJTI()}, {Name: "iat", Value: now},
		{Name: "nbf", Value: now.Add(-5 * time.Second)}, {Name: "exp", Value: now.Add(5 * time.Minute)}, {Name: "groups", Value: user.Groups},
	}
	input, err := engine.AppendSigningInput(make([]byte, 0, engine.TokenSize(keyID, claims, key.Size())), "RS256", keyID, claims)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(input)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return string(engine.AppendSignature(input, sig)), nil
}

func golangJWTSign(key *rsa.PrivateKey) (string, error) {
	t := gjwt.NewWithClaims(gjwt.SigningMethodRS256, gjwt.MapClaims(cloudMap()))
	t.Header["kid"] = keyID
	return t.SignedString(key)
}

func joseSign(s jose.Signer) (string, error) { return josejwt.Signed(s).Claims(cloudMap()).Serialize() }

func jwxSign(key *rsa.PrivateKey) (string, error) {
	tok := jwt.New()
	for k, v := range cloudMap() {
		if err := tok.Set(k, v); err != nil {
			return "", err
		}
	}
	tok.Options().Enable(jwt.FlattenAudience)
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, keyID); err != nil {
		return "", err
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, key, jws.WithProtectedHeaders(hdr)))
	return string(b), err
}

// cloudClaims are the claims the engine estimate reads, one JSON parse.
type cloudClaims struct {
	Iss           string   `json:"iss"`
	Aud           string   `json:"aud"`
	Sub           string   `json:"sub"`
	SubType       string   `json:"subType"`
	Name          string   `json:"name"`
	Email         string   `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	JTI           string   `json:"jti"`
	Iat           int64    `json:"iat"`
	Nbf           int64    `json:"nbf"`
	Exp           int64    `json:"exp"`
	Groups        []string `json:"groups"`
}

// verifiers returns raw and the verifying candidates, each checking s.token
// with the signature and the claim checks its API offers.
func verifiers(s *setup) (raw func() error, cands []candidate, err error) {
	pub := &s.key.PublicKey
	raw = func() error {
		sum := sha256.Sum256(s.input)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], s.sig)
	}
	cv, err := qsjwtCloudVerifier(pub)
	if err != nil {
		return nil, nil, err
	}
	tok := s.token
	keyFunc := func(*gjwt.Token) (any, error) { return pub, nil }
	gparser := gjwt.NewParser(gjwt.WithValidMethods([]string{"RS256"}), gjwt.WithIssuer(issuer), gjwt.WithAudience(audience),
		gjwt.WithTimeFunc(clock), gjwt.WithExpirationRequired(), gjwt.WithIssuedAt())
	allowed := []string{"RS256"}
	rawAgain := raw
	cands = []candidate{
		{"raw again (control)", false, func() error { return rawAgain() }},
		{"qsjwt Cloud verifier", false, func() error { _, err := cv.Verify(tok); return err }},
		{"engine primitive alone", false, func() error {
			c, err := engine.ParseCompact(tok)
			if err != nil {
				return err
			}
			return c.VerifyRSA("RS256", allowed, pub)
		}},
		{"engine primitive + claims JSON", false, func() error { return engineVerify(tok, allowed, pub) }},
		{"golang-jwt/v5", true, func() error {
			_, err := gparser.ParseWithClaims(tok, gjwt.MapClaims{}, keyFunc)
			return err
		}},
		{"go-jose/v4", true, func() error {
			t, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				return err
			}
			var std josejwt.Claims
			var priv map[string]any
			if err := t.Claims(pub, &std, &priv); err != nil {
				return err
			}
			return std.ValidateWithLeeway(josejwt.Expected{Issuer: issuer, AnyAudience: josejwt.Audience{audience}, Time: now}, 0)
		}},
		{"jwx/v2", true, func() error {
			_, err := jwt.Parse([]byte(tok), jwt.WithKey(jwa.RS256, pub), jwt.WithClock(jwt.ClockFunc(clock)),
				jwt.WithIssuer(issuer), jwt.WithAudience(audience))
			return err
		}},
	}
	return raw, cands, nil
}

// engineVerify estimates the verifier to come: the exact-bytes primitive,
// the header and the claims each parsed once, and the Cloud rules on fields.
func engineVerify(tok string, allowed []string, pub *rsa.PublicKey) error {
	c, err := engine.ParseCompact(tok)
	if err != nil {
		return err
	}
	var hdr struct {
		Alg, Kid, Typ string
	}
	if err := json.Unmarshal(c.Header, &hdr); err != nil {
		return err
	}
	if err := c.VerifyRSA(hdr.Alg, allowed, pub); err != nil {
		return err
	}
	var cl cloudClaims
	if err := json.Unmarshal(c.Payload, &cl); err != nil {
		return err
	}
	t := now.Unix()
	switch {
	case hdr.Kid != keyID, cl.Iss != issuer, cl.Aud != audience, cl.Sub == "", cl.SubType != "user", cl.Name == "",
		cl.Email == "", cl.EmailVerified == nil, cl.JTI == "", cl.Exp <= t, cl.Nbf > t, cl.Iat > t, cl.Exp-cl.Iat > 3600:
		return fmt.Errorf("claims refused")
	}
	return nil
}
