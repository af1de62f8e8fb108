package engine

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BenchmarkJWX measures what jwx itself spends to sign the tokens of the
// package qsjwt benchmarks (jwt.New, Set, jwt.Sign), the yardstick for the
// allocations of qsjwt's Sign; scripts/bench.sh runs it in the same run.

func benchKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	data, err := os.ReadFile("../../testdata/test-only-rsa2048-pkcs8.pem")
	require.NoError(tb, err)
	block, _ := pem.Decode(data)
	require.NotNil(tb, block, "no PEM block in the test key")
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(tb, err)
	return k.(*rsa.PrivateKey)
}

var benchNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// benchUser holds the values of the tokens the package qsjwt benchmarks
// sign. They are variables, so that putting them in claims costs what it
// costs a real caller.
var benchUser = struct {
	iss, kid, sub, name, email, jti, userID, userDir, qseowAud string
	groups, qseowGroups                                        []string
	iat, nbf, exp, qseowExp                                    time.Time
}{
	iss: "tenant.eu.qlikcloud.com", kid: "kid", sub: "anna-42", name: "Anna Andersson", email: "anna@example.com",
	jti: "q2W8tVnB3kXo0cJ5yZr1Aw", userID: "anna", userDir: "GRUSGRUS", qseowAud: "hdJh34wkK",
	groups: []string{"g1"}, qseowGroups: []string{"g1", "group 2"},
	iat: benchNow, nbf: benchNow.Add(-5 * time.Second), exp: benchNow.Add(5 * time.Minute), qseowExp: benchNow.Add(time.Hour),
}

// engineCloud signs the Cloud token of the package qsjwt's BenchmarkSign with the encoder, the claims
// in the order qsjwt gives them.
func engineCloud(key *rsa.PrivateKey) ([]byte, error) {
	u := &benchUser
	return engineSign(key, u.kid, []Claim{
		{Name: "iss", Value: u.iss},
		{Name: "aud", Value: "qlik.api/login/jwt-session"},
		{Name: "sub", Value: u.sub},
		{Name: "subType", Value: "user"},
		{Name: "name", Value: u.name},
		{Name: "email", Value: u.email},
		{Name: "email_verified", Value: true},
		{Name: "jti", Value: u.jti},
		{Name: "iat", Value: u.iat},
		{Name: "nbf", Value: u.nbf},
		{Name: "exp", Value: u.exp},
		{Name: "groups", Value: u.groups},
	})
}

// engineQSEoW signs its QSEoW token with the encoder.
func engineQSEoW(key *rsa.PrivateKey) ([]byte, error) {
	u := &benchUser
	return engineSign(key, "", []Claim{
		{Name: "userId", Value: u.userID},
		{Name: "userDirectory", Value: u.userDir},
		{Name: "aud", Value: u.qseowAud},
		{Name: "name", Value: u.name},
		{Name: "email", Value: u.email},
		{Name: "group", Value: u.qseowGroups},
		{Name: "iat", Value: u.iat},
		{Name: "exp", Value: u.qseowExp},
	})
}

// jwxCloud is how a caller of jwx alone makes the Cloud token of the package qsjwt's BenchmarkSign:
// the same claims and header, with none of qsjwt's checks.
func jwxCloud(key *rsa.PrivateKey) ([]byte, error) {
	u := &benchUser
	tok := jwt.New()
	for _, err := range []error{
		tok.Set(jwt.IssuerKey, u.iss),
		tok.Set(jwt.AudienceKey, "qlik.api/login/jwt-session"),
		tok.Set(jwt.SubjectKey, u.sub),
		tok.Set("subType", "user"),
		tok.Set("name", u.name),
		tok.Set("email", u.email),
		tok.Set("email_verified", true),
		tok.Set(jwt.JwtIDKey, u.jti),
		tok.Set(jwt.IssuedAtKey, u.iat),
		tok.Set(jwt.NotBeforeKey, u.nbf),
		tok.Set(jwt.ExpirationKey, u.exp),
		tok.Set("groups", u.groups),
	} {
		if err != nil {
			return nil, err
		}
	}
	return jwxFinish(tok, u.kid, key)
}

// jwxQSEoW is how a caller of jwx alone makes its QSEoW token.
func jwxQSEoW(key *rsa.PrivateKey) ([]byte, error) {
	u := &benchUser
	tok := jwt.New()
	for _, err := range []error{
		tok.Set("userId", u.userID),
		tok.Set("userDirectory", u.userDir),
		tok.Set(jwt.AudienceKey, u.qseowAud),
		tok.Set("name", u.name),
		tok.Set("email", u.email),
		tok.Set("group", u.qseowGroups),
		tok.Set(jwt.IssuedAtKey, u.iat),
		tok.Set(jwt.ExpirationKey, u.qseowExp),
	} {
		if err != nil {
			return nil, err
		}
	}
	return jwxFinish(tok, "", key)
}

// jwxFinish signs tok as jwx's documentation shows, with the header qsjwt
// writes and a plain-string "aud".
func jwxFinish(tok jwt.Token, kid string, key *rsa.PrivateKey) ([]byte, error) {
	tok.Options().Enable(jwt.FlattenAudience)
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return nil, err
	}
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			return nil, err
		}
	}
	return jwt.Sign(tok, jwt.WithKey(jwa.RS256, key, jws.WithProtectedHeaders(hdr)))
}

var benchCases = []struct {
	name        string
	jwx, engine func(*rsa.PrivateKey) ([]byte, error)
}{{"Cloud", jwxCloud, engineCloud}, {"QSEoW", jwxQSEoW, engineQSEoW}}

// engineSign is the path qsjwt's signToken takes for an in-memory key: the
// signing input into a buffer sized for the whole token, the hash on the
// stack, rsa.SignPKCS1v15, the signature appended.
func engineSign(key *rsa.PrivateKey, kid string, claims []Claim) ([]byte, error) {
	input, err := AppendSigningInput(make([]byte, 0, TokenSize(kid, claims, key.Size())), "RS256", kid, claims)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(input)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, err
	}
	return AppendSignature(input, sig), nil
}

// TestJWXYardstick checks that BenchmarkJWX makes the token the encoder
// makes: the same header and claims (jwx sorts the claims by name, the
// encoder keeps the caller's order), so that the benchmarks compare like
// with like.
func TestJWXYardstick(t *testing.T) {
	key := benchKey(t)
	for _, tc := range benchCases {
		want, err := tc.engine(key)
		require.NoError(t, err)
		got, err := tc.jwx(key)
		require.NoError(t, err)
		w, err := ParseCompact(string(want))
		require.NoError(t, err)
		g, err := ParseCompact(string(got))
		require.NoError(t, err)
		assert.JSONEq(t, string(w.Header), string(g.Header), tc.name)
		assert.JSONEq(t, string(w.Payload), string(g.Payload), tc.name)
		assert.Len(t, got, len(want), "same size")
	}
}

// TestSignTimesWholeSeconds: a time with a fraction of a second makes the
// same token as the whole second before it.
func TestSignTimesWholeSeconds(t *testing.T) {
	key := benchKey(t)
	sign := func(iat time.Time) string {
		raw, err := engineSign(key, "", []Claim{{Name: "sub", Value: "a"}, {Name: "iat", Value: iat}})
		require.NoError(t, err)
		return string(raw)
	}
	assert.Equal(t, sign(benchNow), sign(benchNow.Add(999*time.Millisecond)))
}

// BenchmarkJWX is jwx's own cost of signing a qsjwt token, claims
// included: the yardstick for allocations per Sign.
func BenchmarkJWX(b *testing.B) {
	key := benchKey(b)
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.jwx(key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode is the encoder alone, no RSA: what a token costs beyond
// its signature (the allocation is the token's buffer).
func BenchmarkEncode(b *testing.B) {
	u := &benchUser
	claims := []Claim{
		{Name: "iss", Value: u.iss}, {Name: "aud", Value: "qlik.api/login/jwt-session"}, {Name: "sub", Value: u.sub},
		{Name: "subType", Value: "user"}, {Name: "name", Value: u.name}, {Name: "email", Value: u.email},
		{Name: "email_verified", Value: true}, {Name: "jti", Value: u.jti}, {Name: "iat", Value: u.iat},
		{Name: "nbf", Value: u.nbf}, {Name: "exp", Value: u.exp}, {Name: "groups", Value: u.groups},
	}
	sig := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		input, err := AppendSigningInput(make([]byte, 0, TokenSize(u.kid, claims, len(sig))), "RS256", u.kid, claims)
		if err != nil {
			b.Fatal(err)
		}
		_ = AppendSignature(input, sig)
	}
}

// BenchmarkVerifyCompact is the verify primitive beside the raw
// rsa.VerifyPKCS1v15 over the hash of the same signing input.
func BenchmarkVerifyCompact(b *testing.B) {
	key := benchKey(b)
	raw, err := engineCloud(key)
	require.NoError(b, err)
	tok := string(raw)
	c, err := ParseCompact(tok)
	require.NoError(b, err)
	allowed := []string{"RS256"}
	b.Run("RawRSA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256(c.SigningInput)
			if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], c.Signature); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Engine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := ParseCompact(tok)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.VerifyRSA("RS256", allowed, &key.PublicKey); err != nil {
				b.Fatal(err)
			}
		}
	})
}
