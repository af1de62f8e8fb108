package engine

import (
	"crypto/rsa"
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

// engineCloud signs the Cloud token of the package qsjwt's BenchmarkSign with engine.Sign, the claims
// in the order qsjwt gives them.
func engineCloud(key *rsa.PrivateKey) ([]byte, error) {
	u := &benchUser
	return Sign("RS256", key, u.kid, []Claim{
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

// engineQSEoW signs its QSEoW token with engine.Sign.
func engineQSEoW(key *rsa.PrivateKey) ([]byte, error) {
	u := &benchUser
	return Sign("RS256", key, "", []Claim{
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

// TestJWXYardstick checks that BenchmarkJWX makes the very token
// engine.Sign makes (RSA PKCS #1 v1.5 is deterministic), so that the two
// benchmarks compare like with like.
func TestJWXYardstick(t *testing.T) {
	key := benchKey(t)
	for _, tc := range benchCases {
		want, err := tc.engine(key)
		require.NoError(t, err)
		got, err := tc.jwx(key)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), tc.name)
	}
}

// TestSignTimesWholeSeconds guards the shortcut in Sign that leaves whole
// seconds as they are: a time with a fraction of a second makes the same
// token as the whole second before it.
func TestSignTimesWholeSeconds(t *testing.T) {
	key := benchKey(t)
	sign := func(iat time.Time) string {
		raw, err := Sign("RS256", key, "", []Claim{{Name: "sub", Value: "a"}, {Name: "iat", Value: iat}})
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
