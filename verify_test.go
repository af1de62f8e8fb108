package qsjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tokens in these tests are built without qsjwt: forge writes the header
// and claims JSON exactly as given and signs them with crypto/rsa,
// crypto/hmac or crypto/ecdsa directly, so that every shape other tools
// produce can be checked.

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// forge returns header.claims.signature with sign's signature over the
// signing input; a nil sign leaves the signature empty.
func forge(header, claims string, sign func(input []byte) []byte) string {
	input := b64([]byte(header)) + "." + b64([]byte(claims))
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

func rsaSign(key *rsa.PrivateKey, h crypto.Hash) func([]byte) []byte {
	return func(input []byte) []byte {
		d := h.New()
		d.Write(input)
		sig, err := rsa.SignPKCS1v15(nil, key, h, d.Sum(nil))
		if err != nil {
			panic(err)
		}
		return sig
	}
}

func hmacSign(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

func ecdsaSign(key *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		sum := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
		if err != nil {
			panic(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
}

var (
	otherKeyOnce sync.Once
	otherKey     *rsa.PrivateKey
)

// anotherKey is an RSA key that is not the test key, made once per run.
func anotherKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	otherKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		otherKey = k
	})
	return otherKey
}

// claimsJSON marshals claims after change, which may set or delete them.
func claimsJSON(t testing.TB, claims map[string]any, change func(map[string]any)) string {
	t.Helper()
	m := map[string]any{}
	for k, v := range claims {
		m[k] = v
	}
	if change != nil {
		change(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

var now = fixedNow.Unix()

// cloudClaimsOK is a Qlik Cloud token's payload as Qlik documents it.
var cloudClaimsOK = map[string]any{
	"iss": "tenant.eu.qlikcloud.com", "aud": CloudAudience, "sub": "anna-42", "subType": "user",
	"name": "Anna Andersson", "email": "anna@example.com", "email_verified": true, "groups": []string{"g1", "g2"},
	"jti": "jti-1", "iat": now, "nbf": now - 5, "exp": now + 300,
}

const cloudHeaderOK = `{"alg":"RS256","kid":"kid-1","typ":"JWT"}`

func newTestCloudVerifier(t testing.TB, opts ...CloudVerifierOption) *CloudVerifier {
	t.Helper()
	v, err := NewCloudVerifier(testCertKey(t), append([]CloudVerifierOption{WithClock(fixedClock),
		WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid-1")}, opts...)...)
	require.NoError(t, err)
	return v
}

func newTestQSEoWVerifier(t testing.TB, opts ...QSEoWVerifierOption) *QSEoWVerifier {
	t.Helper()
	v, err := NewQSEoWVerifier(testCertKey(t), append([]QSEoWVerifierOption{WithClock(fixedClock)}, opts...)...)
	require.NoError(t, err)
	return v
}

// problems returns err's problems as "claim" or "warning:claim", sorted.
func problems(t testing.TB, err error) []string {
	t.Helper()
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	var out []string
	for _, p := range ve.Problems {
		if p.Warning {
			out = append(out, "warning:"+p.Claim)
		} else {
			out = append(out, p.Claim)
		}
		assert.NotEmpty(t, p.Rule, "problem %s has a rule", p.Claim)
	}
	slices.Sort(out)
	return out
}

func warnings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, "warning:"+p.Claim)
	}
	slices.Sort(out)
	return out
}

func TestCloudVerifyIndependentTokens(t *testing.T) {
	key := testKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	certPEM, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	rs256 := rsaSign(key, crypto.SHA256)

	cases := []struct {
		name   string
		header string
		change func(map[string]any)
		sign   func([]byte) []byte
		want   []string // problems; nil: accepted
		warn   []string // warnings of an accepted token
	}{
		{"as Qlik documents it", cloudHeaderOK, nil, rs256, nil, nil},
		{"random sub is accepted: Verify cannot tell", cloudHeaderOK, func(m map[string]any) { m["sub"] = "6f1c2a9e-3b7d-4e5f-9a8b-1c2d3e4f5a6b" }, rs256, nil, nil},
		{"no groups", cloudHeaderOK, func(m map[string]any) { delete(m, "groups") }, rs256, nil, nil},
		{"email_verified false", cloudHeaderOK, func(m map[string]any) { m["email_verified"] = false }, rs256, nil, nil},
		{"exactly one hour from nbf", cloudHeaderOK, func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = now-5, now-5, now+3595 }, rs256, nil, nil},
		{"extra claims are ignored", cloudHeaderOK, func(m map[string]any) { m["department"] = "sales" }, rs256, nil, nil},

		{"alg none", `{"alg":"none","kid":"kid-1","typ":"JWT"}`, nil, nil, []string{"header.alg"}, nil},
		{"alg NONE", `{"alg":"NONE","kid":"kid-1","typ":"JWT"}`, nil, nil, []string{"header.alg"}, nil},
		{"no alg", `{"kid":"kid-1","typ":"JWT"}`, nil, rs256, []string{"header.alg"}, nil},
		{"alg a number", `{"alg":256,"kid":"kid-1","typ":"JWT"}`, nil, rs256, []string{"header.alg"}, nil},
		{"HS256 keyed with the certificate", `{"alg":"HS256","kid":"kid-1","typ":"JWT"}`, nil, hmacSign(certPEM), []string{"header.alg"}, nil},
		{"HS512 keyed with the certificate", `{"alg":"HS512","kid":"kid-1","typ":"JWT"}`, nil, hmacSign(certPEM), []string{"header.alg"}, nil},
		{"ES256 signed with an EC key", `{"alg":"ES256","kid":"kid-1","typ":"JWT"}`, nil, ecdsaSign(ec), []string{"header.alg"}, nil},
		{"RS384: Qlik Cloud takes RS256 only", `{"alg":"RS384","kid":"kid-1","typ":"JWT"}`, nil, rsaSign(key, crypto.SHA384), []string{"header.alg"}, nil},
		{"PS256", `{"alg":"PS256","kid":"kid-1","typ":"JWT"}`, nil, rs256, []string{"header.alg"}, nil},
		{"crit extension", `{"alg":"RS256","kid":"kid-1","typ":"JWT","crit":["b64"],"b64":false}`, nil, rs256, []string{"header.b64", "header.crit"}, nil},
		{"unencoded payload without crit", `{"alg":"RS256","kid":"kid-1","typ":"JWT","b64":false}`, nil, rs256, []string{"header.b64"}, nil},
		{"signed by another key", cloudHeaderOK, nil, rsaSign(anotherKey(t), crypto.SHA256), []string{"signature"}, nil},
		{"RS256 header, RS512 signature", cloudHeaderOK, nil, rsaSign(key, crypto.SHA512), []string{"signature"}, nil},
		{"no kid", `{"alg":"RS256","typ":"JWT"}`, nil, rs256, []string{"header.kid"}, nil},
		{"wrong kid", `{"alg":"RS256","kid":"kid-2","typ":"JWT"}`, nil, rs256, []string{"header.kid"}, nil},
		{"no typ", `{"alg":"RS256","kid":"kid-1"}`, nil, rs256, nil, []string{"warning:header.typ"}},
		{"duplicate alg in header", `{"alg":"RS256","kid":"kid-1","typ":"JWT","alg":"RS256"}`, nil, rs256, []string{"header.alg"}, nil},

		{"group instead of groups", cloudHeaderOK, func(m map[string]any) { m["group"] = m["groups"]; delete(m, "groups") }, rs256, nil, []string{"warning:group"}},
		{"email_verified a string", cloudHeaderOK, func(m map[string]any) { m["email_verified"] = "true" }, rs256, []string{"email_verified"}, nil},
		{"email_verified null", cloudHeaderOK, func(m map[string]any) { m["email_verified"] = nil }, rs256, []string{"email_verified"}, nil},
		{"no email_verified", cloudHeaderOK, func(m map[string]any) { delete(m, "email_verified") }, rs256, []string{"email_verified"}, nil},
		{"365-day lifetime", cloudHeaderOK, func(m map[string]any) { m["exp"] = now + 365*86400 }, rs256, []string{"exp", "exp"}, nil},
		{"one hour from iat, plus nbf skew", cloudHeaderOK, func(m map[string]any) { m["exp"] = now + 3600 }, rs256, []string{"exp"}, nil},
		{"exp in milliseconds", cloudHeaderOK, func(m map[string]any) { m["exp"] = (now + 300) * 1000 }, rs256, []string{"exp", "exp", "warning:exp"}, nil},
		{"aud an array", cloudHeaderOK, func(m map[string]any) { m["aud"] = []string{CloudAudience} }, rs256, []string{"aud"}, nil},
		{"wrong aud", cloudHeaderOK, func(m map[string]any) { m["aud"] = "qlik.api" }, rs256, []string{"aud"}, nil},
		{"no aud", cloudHeaderOK, func(m map[string]any) { delete(m, "aud") }, rs256, []string{"aud"}, nil},
		{"no nbf", cloudHeaderOK, func(m map[string]any) { delete(m, "nbf") }, rs256, []string{"nbf"}, nil},
		{"no iat", cloudHeaderOK, func(m map[string]any) { delete(m, "iat") }, rs256, []string{"iat"}, nil},
		{"no exp", cloudHeaderOK, func(m map[string]any) { delete(m, "exp") }, rs256, []string{"exp"}, nil},
		{"exp a string", cloudHeaderOK, func(m map[string]any) { m["exp"] = fmt.Sprint(now + 300) }, rs256, []string{"exp"}, nil},
		{"no sub", cloudHeaderOK, func(m map[string]any) { delete(m, "sub") }, rs256, []string{"sub"}, nil},
		{"empty sub", cloudHeaderOK, func(m map[string]any) { m["sub"] = "" }, rs256, []string{"sub"}, nil},
		{"sub a number", cloudHeaderOK, func(m map[string]any) { m["sub"] = 42 }, rs256, []string{"sub"}, nil},
		{"sub with white space", cloudHeaderOK, func(m map[string]any) { m["sub"] = "anna " }, rs256, nil, []string{"warning:sub"}},
		{"no name, no email", cloudHeaderOK, func(m map[string]any) { delete(m, "name"); delete(m, "email") }, rs256, []string{"email", "name"}, nil},
		{"email without @", cloudHeaderOK, func(m map[string]any) { m["email"] = "anna" }, rs256, nil, []string{"warning:email"}},
		{"no jti", cloudHeaderOK, func(m map[string]any) { delete(m, "jti") }, rs256, []string{"jti"}, nil},
		{"empty jti", cloudHeaderOK, func(m map[string]any) { m["jti"] = "" }, rs256, []string{"jti"}, nil},
		{"numeric jti, as in Qlik's support article", cloudHeaderOK, func(m map[string]any) { m["jti"] = 17111234567 }, rs256, nil, []string{"warning:jti"}},
		{"no subType", cloudHeaderOK, func(m map[string]any) { delete(m, "subType") }, rs256, []string{"subType"}, nil},
		{"wrong subType", cloudHeaderOK, func(m map[string]any) { m["subType"] = "client" }, rs256, []string{"subType"}, nil},
		{"wrong iss", cloudHeaderOK, func(m map[string]any) { m["iss"] = "https://tenant.eu.qlikcloud.com" }, rs256, []string{"iss"}, nil},
		{"no iss", cloudHeaderOK, func(m map[string]any) { delete(m, "iss") }, rs256, []string{"iss"}, nil},
		{"groups a string", cloudHeaderOK, func(m map[string]any) { m["groups"] = "g1" }, rs256, []string{"groups"}, nil},
		{"empty group name", cloudHeaderOK, func(m map[string]any) { m["groups"] = []string{"g1", ""} }, rs256, nil, []string{"warning:groups"}},
		{"expired", cloudHeaderOK, func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = now-600, now-600, now-60 }, rs256, []string{"exp"}, nil},
		{"not yet valid", cloudHeaderOK, func(m map[string]any) { m["nbf"] = now + 60 }, rs256, []string{"nbf"}, nil},
		{"issued in the future", cloudHeaderOK, func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = now+60, now+60, now+360 }, rs256, []string{"nbf", "warning:iat"}, nil}, // iat: C-TIME-5, a warning
		{"exp before nbf", cloudHeaderOK, func(m map[string]any) { m["nbf"], m["exp"] = now, now-1 }, rs256, []string{"exp"}, nil},
	}
	v := newTestCloudVerifier(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := forge(tc.header, claimsJSON(t, cloudClaimsOK, tc.change), tc.sign)
			cl, err := v.Verify(token)
			if tc.want == nil {
				require.NoError(t, err)
				require.NotNil(t, cl)
				assert.Equal(t, tc.warn, warnings(cl.Warnings))
				return
			}
			require.Error(t, err)
			assert.Nil(t, cl, "no claims from a refused token")
			assert.ErrorIs(t, err, errTokenRefused)
			assert.Equal(t, tc.want, problems(t, err), "%v", err)
		})
	}
}

func TestCloudVerifyClaims(t *testing.T) {
	token := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, func(m map[string]any) { m["department"] = "sales"; m["level"] = 3 }),
		rsaSign(testKey(t), crypto.SHA256))
	cl, err := newTestCloudVerifier(t).Verify(token)
	require.NoError(t, err)
	assert.Equal(t, &CloudClaims{
		CloudUser: CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true, Groups: []string{"g1", "g2"}},
		Issuer:    "tenant.eu.qlikcloud.com", Audience: CloudAudience, SubjectType: "user", ID: "jti-1",
		KeyID: "kid-1", Algorithm: RS256,
		IssuedAt: fixedNow, NotBefore: fixedNow.Add(-5 * time.Second), ExpiresAt: fixedNow.Add(5 * time.Minute),
		Other: map[string]any{"department": "sales", "level": json.Number("3")},
	}, cl)
}

func TestCloudVerifyEveryProblemAtOnce(t *testing.T) {
	// The shape widely used tools produce, all wrong at once, but RS256-signed
	// with the right key: the signature verifies and every claim is judged.
	claims := `{"iss":"tenant","aud":["qlik.api/login/jwt-session"],"sub":"6f1c2a9e","name":"Anna","email":"anna@example.com",` +
		`"email_verified":"true","group":["Sales"],"iat":` + fmt.Sprint(now) + `,"exp":` + fmt.Sprint(now+365*86400) + `}`
	token := forge(`{"alg":"RS256","kid":"other"}`, claims, rsaSign(testKey(t), crypto.SHA256))
	_, err := newTestCloudVerifier(t).Verify(token)
	require.Error(t, err)
	assert.Equal(t, []string{"aud", "email_verified", "exp", "header.kid", "iss", "jti", "nbf", "subType", "warning:group", "warning:header.typ"},
		problems(t, err))
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.SignatureVerified)
	assert.Equal(t, "Qlik Cloud", ve.Variant)

	// The error text names every claim and Qlik's rule for it.
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "qsjwt: token refused: Qlik Cloud would refuse it: 8 problems, 2 warnings"), msg)
	for _, want := range []string{
		`header.kid: is "other"; Qlik Cloud needs exactly the identity provider's Key ID "kid-1" (WithKeyID)`,
		`iss: is "tenant"; Qlik Cloud needs exactly the identity provider's issuer "tenant.eu.qlikcloud.com" (WithIssuer)`,
		`aud: is an array ["qlik.api/login/jwt-session"], not a string; Qlik Cloud needs the login audience "qlik.api/login/jwt-session" as a plain string`,
		`warning: group: is ignored: Qlik Cloud reads "groups" (plural)`,
		`subType: is missing; Qlik Cloud needs the subject type "user"`,
		`email_verified: is the string "true"; Qlik Cloud needs the JSON boolean true or false, not a string`,
		`jti: is missing; Qlik Cloud needs a unique ID per token`,
		`nbf: is missing; Qlik Cloud refuses a token without it (INTERNAL-TOKEN-1 Missing required claim: nbf)`,
		`exp: exp - iat is 31536000 s (365 days); Qlik Cloud allows at most 3600 s`,
		`warning: header.typ: is missing; every Qlik Cloud example sends "JWT"`,
	} {
		assert.Contains(t, msg, want)
	}
}

func TestVerifyListsClaimsOfAnUnverifiedToken(t *testing.T) {
	certPEM, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	claims := claimsJSON(t, cloudClaimsOK, func(m map[string]any) { delete(m, "nbf"); m["aud"] = []string{CloudAudience} })
	token := forge(`{"alg":"HS256","kid":"kid-1","typ":"JWT"}`, claims, hmacSign(certPEM))
	_, err = newTestCloudVerifier(t).Verify(token)
	require.Error(t, err)
	assert.Equal(t, []string{"aud", "header.alg", "nbf"}, problems(t, err))
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	assert.False(t, ve.SignatureVerified)
	assert.Contains(t, err.Error(), "signature not verified")
	assert.Contains(t, err.Error(), "HS*")
	assert.NotContains(t, err.Error(), "BEGIN CERTIFICATE")
}

func TestVerifyTamperedPayload(t *testing.T) {
	token := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(testKey(t), crypto.SHA256))
	parts := strings.Split(token, ".")
	evil := claimsJSON(t, cloudClaimsOK, func(m map[string]any) { m["sub"] = "admin" })
	tampered := parts[0] + "." + b64([]byte(evil)) + "." + parts[2]
	_, err := newTestCloudVerifier(t).Verify(tampered)
	assert.Equal(t, []string{"signature"}, problems(t, err))
	assert.Contains(t, err.Error(), "signature: does not verify with the given key (RSA-2048)")

	// A signature of the right length, but flipped bits.
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sig[10] ^= 1
	_, err = newTestCloudVerifier(t).Verify(parts[0] + "." + parts[1] + "." + b64(sig))
	assert.Equal(t, []string{"signature"}, problems(t, err))
}

func TestVerifyForm(t *testing.T) {
	ok := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(testKey(t), crypto.SHA256))
	parts := strings.Split(ok, ".")
	rs := rsaSign(testKey(t), crypto.SHA256)
	cases := []struct{ name, token, part, says string }{
		{"empty", "", "token", "empty"},
		{"oversized", ok + strings.Repeat("A", maxTokenSize), "token", "64 KiB"},
		{"JWE", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "token", "JWE"},
		{"JWS JSON serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, "token", "JSON serialization"},
		{"two parts", parts[0] + "." + parts[1], "token", "three"},
		{"four parts", ok + ".x", "token", "three"},
		{"Bearer prefix", "Bearer " + ok, "token", "Bearer"},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], "header", "base64url"},
		{"standard base64", strings.ReplaceAll(ok, "-", "+"), "", "base64url"},
		{"header not JSON", b64([]byte("alg=RS256")) + "." + parts[1] + "." + parts[2], "header", "JSON"},
		{"payload an array", forge(cloudHeaderOK, `["sub"]`, rs), "payload", "JSON object"},
		{"payload with trailing data", forge(cloudHeaderOK, `{"sub":"a"}{"sub":"b"}`, rs), "payload", "more after"},
		{"payload truncated", forge(cloudHeaderOK, `{"sub":"a"`, rs), "payload", "JSON"},
	}
	v := newTestCloudVerifier(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.token)
			require.Error(t, err)
			var ve *VerifyError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1, "%v", err)
			if tc.part != "" {
				assert.Equal(t, tc.part, ve.Problems[0].Claim)
			}
			assert.Contains(t, ve.Problems[0].Rule, tc.says)
			assert.False(t, ve.SignatureVerified)
			assert.NotContains(t, err.Error(), "claims were read", "no claims were read")

			_, err = Decode(tc.token)
			assert.ErrorIs(t, err, errMalformedToken)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
	// White space around a token (a pasted line) is not a problem.
	_, err := v.Verify("  " + ok + "\n")
	assert.NoError(t, err)
}

func TestVerifyDuplicateClaims(t *testing.T) {
	// encoding/json and JavaScript take the last value, other parsers the
	// first: a claim given twice is refused, whichever counts.
	claims := strings.Replace(claimsJSON(t, cloudClaimsOK, nil), `"sub":"anna-42"`, `"sub":"anna-42","sub":"admin"`, 1)
	require.Contains(t, claims, `"sub":"admin"`)
	_, err := newTestCloudVerifier(t).Verify(forge(cloudHeaderOK, claims, rsaSign(testKey(t), crypto.SHA256)))
	assert.Equal(t, []string{"sub"}, problems(t, err))
	assert.Contains(t, err.Error(), "sub: is given twice; JWT parsers disagree")
}

func TestVerifyClockSkew(t *testing.T) {
	rs := rsaSign(testKey(t), crypto.SHA256)
	expired3s := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = now-300, now-300, now-3 }), rs)
	future3s := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = now+3, now+3, now+300 }), rs)
	expiresNow := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = now-300, now-300, now }), rs)

	_, err := newTestCloudVerifier(t).Verify(expired3s)
	assert.NoError(t, err, "within the default skew of 5 s")
	_, err = newTestCloudVerifier(t).Verify(future3s)
	assert.NoError(t, err, "within the default skew of 5 s")

	_, err = newTestCloudVerifier(t, WithClockSkew(0)).Verify(expired3s)
	assert.Equal(t, []string{"exp"}, problems(t, err))
	_, err = newTestCloudVerifier(t, WithClockSkew(0)).Verify(future3s)
	assert.Equal(t, []string{"nbf", "warning:iat"}, problems(t, err), "iat in the future is a warning (C-TIME-5)")
	_, err = newTestCloudVerifier(t, WithClockSkew(0)).Verify(expiresNow)
	assert.Equal(t, []string{"exp"}, problems(t, err), "exp is the first instant the token is invalid")
	_, err = newTestCloudVerifier(t, WithClockSkew(2*time.Second)).Verify(expired3s)
	assert.Equal(t, []string{"exp"}, problems(t, err))
	assert.Contains(t, err.Error(), "expired at 2026-11-29T11:59:57Z; now is 2026-11-29T12:00:00Z (clock skew 2s)")
}

var qseowClaimsOK = map[string]any{
	"userId": "anna", "userDirectory": "GRUSGRUS", "name": "Anna Andersson", "email": "anna@example.com",
	"group": []string{"g1", "g2"}, "iat": now, "exp": now + 3600,
}

func TestQSEoWVerifyIndependentTokens(t *testing.T) {
	key := testKey(t)
	rs256 := rsaSign(key, crypto.SHA256)
	hdr := `{"alg":"RS256","typ":"JWT"}`
	certPEM, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	cases := []struct {
		name   string
		opts   []QSEoWVerifierOption
		header string
		change func(map[string]any)
		sign   func([]byte) []byte
		want   []string
		warn   []string
	}{
		{"RS256", nil, hdr, nil, rs256, nil, nil},
		{"RS384", nil, `{"alg":"RS384"}`, nil, rsaSign(key, crypto.SHA384), nil, nil},
		{"RS512", nil, `{"alg":"RS512"}`, nil, rsaSign(key, crypto.SHA512), nil, nil},
		{"no typ, kid or aud: the proxy needs none", nil, `{"alg":"RS256"}`, nil, rs256, nil, nil},
		{"aud given, no audience configured", nil, hdr, func(m map[string]any) { m["aud"] = []string{"x"} }, rs256, nil, nil},
		{"Qlik's sample claim names", []QSEoWVerifierOption{WithUserIDClaim("user"), WithUserDirectoryClaim("directory")}, hdr,
			func(m map[string]any) { m["user"], m["directory"] = m["userId"], m["userDirectory"] }, rs256, nil, nil},

		{"alg none", nil, `{"alg":"none"}`, nil, nil, []string{"header.alg"}, nil},
		{"HS256 keyed with the certificate", nil, `{"alg":"HS256"}`, nil, hmacSign(certPEM), []string{"header.alg"}, nil},
		{"ES256", nil, `{"alg":"ES256"}`, nil, ecdsaSign(ec), []string{"header.alg"}, nil},
		{"signed by another key", nil, hdr, nil, rsaSign(anotherKey(t), crypto.SHA256), []string{"signature"}, nil},

		{"no user ID", nil, hdr, func(m map[string]any) { delete(m, "userId") }, rs256, []string{"userId"}, nil},
		{"user ID in another case", nil, hdr, func(m map[string]any) { m["userid"] = m["userId"]; delete(m, "userId") }, rs256, []string{"userId"}, nil},
		{"user ID a number", nil, hdr, func(m map[string]any) { m["userId"] = 42 }, rs256, []string{"userId"}, nil},
		{"user ID empty", nil, hdr, func(m map[string]any) { m["userId"] = "" }, rs256, []string{"userId"}, nil},
		{"user ID with white space", nil, hdr, func(m map[string]any) { m["userId"] = " anna" }, rs256, []string{"userId"}, nil},
		{"backslash in directory", nil, hdr, func(m map[string]any) { m["userDirectory"] = `GRUS\GRUS` }, rs256, []string{"userDirectory"}, nil},
		{"neither user ID nor directory", nil, hdr, func(m map[string]any) { delete(m, "userId"); delete(m, "userDirectory") }, rs256, []string{"userDirectory", "userId"}, nil},
		{"configured names, token has defaults", []QSEoWVerifierOption{WithUserIDClaim("user"), WithUserDirectoryClaim("directory")}, hdr, nil, rs256, []string{"directory", "user"}, nil},

		{"audience matches", []QSEoWVerifierOption{WithAudience("qlik-sense")}, hdr, func(m map[string]any) { m["aud"] = "qlik-sense" }, rs256, nil, nil},
		{"audience missing", []QSEoWVerifierOption{WithAudience("qlik-sense")}, hdr, nil, rs256, []string{"aud"}, nil},
		{"audience differs", []QSEoWVerifierOption{WithAudience("qlik-sense")}, hdr, func(m map[string]any) { m["aud"] = "Qlik-Sense" }, rs256, []string{"aud"}, nil},
		{"audience an array", []QSEoWVerifierOption{WithAudience("qlik-sense")}, hdr, func(m map[string]any) { m["aud"] = []string{"qlik-sense"} }, rs256, []string{"aud"}, nil},

		{"no exp", nil, hdr, func(m map[string]any) { delete(m, "exp") }, rs256, nil, []string{"warning:exp"}},
		{"no times at all", nil, hdr, func(m map[string]any) { delete(m, "exp"); delete(m, "iat") }, rs256, nil, []string{"warning:exp"}},
		{"365 days: no maximum for QSEoW", nil, hdr, func(m map[string]any) { m["exp"] = now + 365*86400 }, rs256, nil, nil},
		{"exp in milliseconds", nil, hdr, func(m map[string]any) { m["exp"] = (now + 3600) * 1000 }, rs256, nil, []string{"warning:exp"}},
		{"expired", nil, hdr, func(m map[string]any) { m["exp"] = now - 60 }, rs256, []string{"exp"}, nil},
		{"not yet valid", nil, hdr, func(m map[string]any) { m["nbf"] = now + 60 }, rs256, []string{"nbf"}, nil},
		{"iat in the future", nil, hdr, func(m map[string]any) { m["iat"] = now + 60 }, rs256, nil, []string{"warning:iat"}},
		{"exp a string", nil, hdr, func(m map[string]any) { m["exp"] = "tomorrow" }, rs256, []string{"exp"}, nil},
		{"group a string", nil, hdr, func(m map[string]any) { m["group"] = "g1" }, rs256, nil, []string{"warning:group"}},
		{"empty group name", nil, hdr, func(m map[string]any) { m["group"] = []string{" "} }, rs256, nil, []string{"warning:group"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestQSEoWVerifier(t, tc.opts...)
			cl, err := v.Verify(forge(tc.header, claimsJSON(t, qseowClaimsOK, tc.change), tc.sign))
			if tc.want == nil {
				require.NoError(t, err)
				require.NotNil(t, cl)
				assert.Equal(t, tc.warn, warnings(cl.Warnings))
				assert.Equal(t, "anna", cl.UserID)
				assert.Equal(t, "GRUSGRUS", cl.UserDirectory)
				return
			}
			require.Error(t, err)
			assert.Nil(t, cl)
			assert.ErrorIs(t, err, errTokenRefused)
			assert.Equal(t, tc.want, problems(t, err), "%v", err)
		})
	}
}

func TestQSEoWVerifyErrorText(t *testing.T) {
	claims := claimsJSON(t, qseowClaimsOK, func(m map[string]any) {
		m["userid"] = m["userId"]
		delete(m, "userId")
		m["userDirectory"] = `A\B`
		delete(m, "exp")
	})
	_, err := newTestQSEoWVerifier(t, WithAudience("hdJh34wkK")).Verify(forge(`{"alg":"RS256"}`, claims, rsaSign(testKey(t), crypto.SHA256)))
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		"qsjwt: token refused: QSEoW would refuse it: 3 problems, 1 warning\n",
		`userId: is missing: the virtual proxy's "JWT attribute for user ID" is "userId"; the token has "userid", but claim names are case-sensitive (WithUserIDClaim)`,
		`userDirectory: contains a backslash; the proxy joins directory and user ID as DIRECTORY\user`,
		`aud: is missing; the virtual proxy needs its JWT audience "hdJh34wkK"`,
		`warning: exp: is missing: the token never expires`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "signature not verified")
}

func TestQSEoWVerifyClaims(t *testing.T) {
	claims := claimsJSON(t, qseowClaimsOK, func(m map[string]any) {
		m["aud"], m["nbf"], m["iss"], m["department"], m["admin"], m["level"], m["roles"] = "qlik-sense", now-10, "me", "sales", true, 3, []string{"r"}
	})
	cl, err := newTestQSEoWVerifier(t, WithAudience("qlik-sense")).Verify(forge(`{"alg":"RS512"}`, claims, rsaSign(testKey(t), crypto.SHA512)))
	require.NoError(t, err)
	assert.Equal(t, &QSEoWClaims{
		QSEoWUser: QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna", Name: "Anna Andersson", Email: "anna@example.com", Groups: []string{"g1", "g2"},
			Attributes: map[string]any{"iss": "me", "department": "sales", "admin": true, "level": json.Number("3"), "roles": []string{"r"}}},
		Audience: "qlik-sense", Algorithm: RS512,
		IssuedAt: fixedNow, NotBefore: fixedNow.Add(-10 * time.Second), ExpiresAt: fixedNow.Add(time.Hour),
	}, cl)
}

func TestVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	t.Run("QSEoW", func(t *testing.T) {
		for _, alg := range qseowAlgorithms {
			// The shared options configure the builder and its checker alike.
			q, err := NewQSEoW(testSigner(t), WithClock(fixedClock), WithAlgorithm(alg), WithAudience("aud-1"),
				WithUserIDClaim("user"), WithUserDirectoryClaim("directory"), WithGroupsClaim("roles"))
			require.NoError(t, err)
			v, err := NewQSEoWVerifier(testCertKey(t), WithClock(fixedClock), WithAudience("aud-1"),
				WithUserIDClaim("user"), WithUserDirectoryClaim("directory"), WithGroupsClaim("roles"))
			require.NoError(t, err)
			u := QSEoWUser{UserDirectory: "D", UserID: "u", Name: "N", Email: "e@x", Groups: []string{"a", "b"},
				Attributes: map[string]any{"department": "sales", "admin": true, "tags": []string{"x"}}}
			tok, err := q.Sign(ctx, u)
			require.NoError(t, err)
			cl, err := v.Verify(tok.Raw)
			require.NoError(t, err, "%s", alg)
			assert.Equal(t, u, cl.QSEoWUser)
			assert.Equal(t, alg, cl.Algorithm)
			assert.Equal(t, "aud-1", cl.Audience)
			assert.Equal(t, tok.IssuedAt, cl.IssuedAt)
			assert.Equal(t, tok.ExpiresAt, cl.ExpiresAt)
			assert.Empty(t, cl.Warnings)
		}
	})
	t.Run("Cloud", func(t *testing.T) {
		c, err := NewCloud(testSigner(t), "tenant", "kid-1", WithClock(fixedClock), WithTTL(time.Hour-DefaultNotBeforeSkew))
		require.NoError(t, err)
		v, err := NewCloudVerifier(testCertKey(t), WithClock(fixedClock), WithIssuer("tenant"), WithKeyID("kid-1"))
		require.NoError(t, err)
		for _, u := range []CloudUser{anna, {Subject: "s", Name: "n", Email: "e@x"}} {
			tok, err := c.Sign(ctx, u)
			require.NoError(t, err)
			cl, err := v.Verify(tok.Raw)
			require.NoError(t, err)
			assert.Equal(t, u, cl.CloudUser)
			assert.Equal(t, tok.ID, cl.ID)
			assert.Equal(t, tok.IssuedAt, cl.IssuedAt)
			assert.Equal(t, tok.ExpiresAt, cl.ExpiresAt)
			assert.Empty(t, cl.Warnings)
			assert.Nil(t, cl.Other)
		}
	})
	t.Run("Cloud token is refused by a QSEoW verifier", func(t *testing.T) {
		tok, err := newTestCloud(t).Sign(ctx, anna)
		require.NoError(t, err)
		_, err = newTestQSEoWVerifier(t).Verify(tok.Raw)
		assert.Equal(t, []string{"userDirectory", "userId"}, problems(t, err))
	})
}

func TestVerifyOpenSSLFixtures(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		return string(b)
	}
	t.Run("Qlik Cloud, as documented", func(t *testing.T) {
		cl, err := newTestCloudVerifier(t).Verify(read("test-only-cloud-openssl.jwt"))
		require.NoError(t, err)
		assert.Equal(t, "anna-42", cl.Subject)
		assert.Equal(t, []string{"Sales", "Analysts"}, cl.Groups)
		assert.Equal(t, "x2SbJiBZ0Y1uXW8b4nJxgA", cl.ID)
	})
	t.Run("Qlik Cloud, the shape other tools produce", func(t *testing.T) {
		_, err := newTestCloudVerifier(t).Verify(read("test-only-cloud-othertool.jwt"))
		assert.Equal(t, []string{"aud", "email_verified", "exp", "jti", "nbf", "warning:group"}, problems(t, err))
	})
	t.Run("QSEoW, Qlik's sample claim names, RS512", func(t *testing.T) {
		v := newTestQSEoWVerifier(t, WithUserIDClaim("user"), WithUserDirectoryClaim("directory"), WithAudience("qlik-sense"))
		cl, err := v.Verify(read("test-only-qseow-openssl-rs512.jwt"))
		require.NoError(t, err)
		assert.Equal(t, QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna", Name: "Anna Andersson", Email: "anna@example.com",
			Groups: []string{"Sales", "Analysts"}}, cl.QSEoWUser)
		assert.Equal(t, RS512, cl.Algorithm)
	})
}

func TestNewVerifierOptionErrors(t *testing.T) {
	pub := testCertKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	cases := []struct {
		name    string
		key     crypto.PublicKey
		opts    []VerifierOption
		options []string
		says    string
		cause   error // errors.Is holds for it too, when set
	}{
		{"nil key", nil, nil, []string{"key"}, "nil", nil},
		{"RSA private key", testKey(t), nil, []string{"key"}, "private key (*rsa.PrivateKey) was given where the public key or certificate belongs", nil},
		{"EC private key", ec, nil, []string{"key"}, "private key (*ecdsa.PrivateKey) was given where the public key or certificate belongs", nil},
		{"a Signer", testSigner(t), nil, []string{"key"}, "was given where the public key or certificate belongs", nil},
		{"PEM bytes", []byte("-----BEGIN CERTIFICATE-----"), nil, []string{"key"}, "ParseCertificate", nil},
		{"EC public key: no RS* signature", ec.Public(), nil, []string{"key"}, "ECDSA", ErrKey},
		{"1024-bit key", small.Public(), nil, []string{"key"}, "1024 bits", ErrKey},
		{"negative skew", pub, []VerifierOption{WithClockSkew(-time.Second)}, []string{"WithClockSkew"}, "negative", nil},
		{"skew in nanoseconds", pub, []VerifierOption{WithClockSkew(5)}, []string{"WithClockSkew"}, "5*time.Second", nil},
		{"skew over two hours", pub, []VerifierOption{WithClockSkew(3 * time.Hour)}, []string{"WithClockSkew"}, "clockToleranceSec", nil},
		{"nil clock and no key", nil, []VerifierOption{WithClock(nil)}, []string{"WithClock", "key"}, "clock", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var qopts []QSEoWVerifierOption
			copts := []CloudVerifierOption{WithIssuer("i"), WithKeyID("k")}
			for _, o := range tc.opts {
				qopts, copts = append(qopts, o), append(copts, o)
			}
			q, qerr := NewQSEoWVerifier(tc.key, qopts...)
			c, cerr := NewCloudVerifier(tc.key, copts...)
			assert.Nil(t, q)
			assert.Nil(t, c)
			for _, err := range []error{qerr, cerr} {
				require.Error(t, err)
				assert.ErrorIs(t, err, errInvalidOption)
				if tc.cause != nil {
					assert.ErrorIs(t, err, tc.cause)
				}
				for _, o := range tc.options {
					assert.True(t, hasOption(unjoin(err), o), "an *OptionError names %s: %v", o, err)
				}
				assert.Len(t, unjoin(err), len(tc.options), "one error per problem: %v", err)
				assert.Contains(t, err.Error(), tc.says)
			}
		})
	}
	t.Run("bad issuer and key ID", func(t *testing.T) {
		_, err := NewCloudVerifier(pub, WithIssuer(" i"), WithKeyID("k\xff"))
		for _, o := range []string{"WithIssuer", "WithKeyID"} {
			assert.True(t, hasOption(unjoin(err), o), "%v", err)
		}
		assert.Len(t, unjoin(err), 2)
	})
	t.Run("nil options are ignored", func(t *testing.T) {
		_, err := NewQSEoWVerifier(pub, nil, WithClockSkew(0), nil)
		assert.NoError(t, err)
		_, err = NewCloudVerifier(pub, nil)
		assert.NoError(t, err)
	})
}

func TestVerifierKeys(t *testing.T) {
	certPEM, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	cert, err := ParseCertificate(certPEM)
	require.NoError(t, err)
	fromCert, err := ParsePublicKey(certPEM)
	require.NoError(t, err)
	pub := testCertKey(t)
	jwk := fmt.Sprintf(`{"kty":"RSA","n":%q,"e":"AQAB","alg":"RS256","use":"sig","kid":"kid-1"}`, b64(pub.N.Bytes()))
	fromJWK, err := ParseJWK([]byte(jwk))
	require.NoError(t, err)
	fromSet, err := ParseJWK([]byte(`{"keys":[` + jwk + `]}`))
	require.NoError(t, err)

	token := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(testKey(t), crypto.SHA256))
	for name, key := range map[string]crypto.PublicKey{
		"certificate":              cert,
		"ParsePublicKey":           fromCert,
		"JWK":                      fromJWK,
		"JWK Set":                  fromSet,
		"rsa.PublicKey value":      *pub,
		"the signer's public half": testSigner(t).Public(),
	} {
		t.Run(name, func(t *testing.T) {
			v, err := NewCloudVerifier(key, WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid-1"), WithClock(fixedClock))
			require.NoError(t, err)
			_, err = v.Verify(token)
			assert.NoError(t, err)
		})
	}
}

func TestParseJWKRefusals(t *testing.T) {
	key := testKey(t)
	n, e := b64(key.N.Bytes()), "AQAB"
	d := b64(key.D.Bytes())
	cases := []struct {
		name string
		jwk  string
		want error
	}{
		{"private RSA", fmt.Sprintf(`{"kty":"RSA","n":%q,"e":%q,"d":%q}`, n, e, d), errNotPublicKey},
		{"symmetric", `{"kty":"oct","k":"c2VjcmV0"}`, errNotPublicKey},
		{"private in a set", fmt.Sprintf(`{"keys":[{"kty":"RSA","n":%q,"e":%q,"d":%q}]}`, n, e, d), errNotPublicKey},
		{"for encryption", fmt.Sprintf(`{"kty":"RSA","n":%q,"e":%q,"use":"enc"}`, n, e), ErrUnsupportedKey},
		{"for HS256", fmt.Sprintf(`{"kty":"RSA","n":%q,"e":%q,"alg":"HS256"}`, n, e), ErrUnsupportedKey},
		{"small RSA", fmt.Sprintf(`{"kty":"RSA","n":%q,"e":%q}`, b64(key.N.Bytes()[:128]), e), ErrKey},
		{"two keys", fmt.Sprintf(`{"keys":[{"kty":"RSA","n":%q,"e":%q},{"kty":"RSA","n":%q,"e":%q}]}`, n, e, n, e), errMalformedKey},
		{"not JSON", `-----BEGIN PUBLIC KEY-----`, errMalformedKey},
		{"no kty", `{"n":"x"}`, errMalformedKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := ParseJWK([]byte(tc.jwk))
			assert.Nil(t, pub)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, ErrKey)
			if err != nil {
				assert.NotContains(t, err.Error(), d[:20], "no key material")
				assert.NotContains(t, err.Error(), n[:20], "no key material")
			}
		})
	}
	t.Run("EC key parses, and a verifier refuses it", func(t *testing.T) {
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		jwk := fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":%q,"y":%q}`, b64(ec.X.FillBytes(make([]byte, 32))), b64(ec.Y.FillBytes(make([]byte, 32))))
		pub, err := ParseJWK([]byte(jwk))
		require.NoError(t, err)
		_, err = NewQSEoWVerifier(pub)
		assert.True(t, hasOption(unjoin(err), "key"), "%v", err)
	})
}

func TestVerifierFormatNeverPrintsKeyMaterial(t *testing.T) {
	key := testKey(t)
	modulus := key.N.String()[:20]
	modulus64 := b64(key.N.Bytes())[:20]
	q := newTestQSEoWVerifier(t)
	c := newTestCloudVerifier(t)
	_, err := c.Verify(forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(anotherKey(t), crypto.SHA256)))
	require.Error(t, err)
	_, optErr := NewQSEoWVerifier(key)
	for _, v := range []any{q, c, *q, *c, err, optErr} {
		for _, verb := range []string{"%v", "%+v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, modulus, "%s of %T", verb, v)
			assert.NotContains(t, out, modulus64, "%s of %T", verb, v)
			assert.NotContains(t, out, key.D.String()[:20], "%s of %T", verb, v)
		}
	}
	assert.Equal(t, `qsjwt.CloudVerifier{alg: RS256, key: RSA-2048, iss: "tenant.eu.qlikcloud.com", kid: "kid-1", skew: 5s}`, fmt.Sprint(c))
}

func TestVerifyErrorJSON(t *testing.T) {
	_, err := newTestCloudVerifier(t).Verify(forge(`{"alg":"none"}`, `{}`, nil))
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	b, err := json.Marshal(ve)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte(`{"variant":"Qlik Cloud","problems":[{"claim":"header.alg","rule":"is \"none\": an unsigned token`)), "%s", b)
	assert.Contains(t, string(b), `"signatureVerified":false`)
	assert.Contains(t, string(b), `{"claim":"header.typ","rule":"is missing; every Qlik Cloud example sends \"JWT\"","warning":true}`)
}

func TestVerifyConcurrent(t *testing.T) {
	v := newTestCloudVerifier(t)
	good := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(testKey(t), crypto.SHA256))
	bad := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, func(m map[string]any) { delete(m, "nbf") }), rsaSign(testKey(t), crypto.SHA256))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 20 {
				if i%2 == 0 {
					_, err := v.Verify(good)
					assert.NoError(t, err)
				} else {
					_, err := v.Verify(bad)
					assert.True(t, errors.Is(err, errTokenRefused))
				}
			}
		})
	}
	wg.Wait()
}

var _ = sha512.New // links SHA-384 and SHA-512 for crypto.SHA384.New and crypto.SHA512.New

// BenchmarkVerifyRefused measures what a refused token costs, which an
// attacker chooses: the shape other tools produce (six problems, each
// explained), and a token of 63 KB holding some 2,700 names twice.
func BenchmarkVerifyRefused(b *testing.B) {
	v := newTestCloudVerifier(b)
	rs := rsaSign(testKey(b), crypto.SHA256)
	other, err := os.ReadFile("testdata/test-only-cloud-othertool.jwt")
	require.NoError(b, err)
	var dups strings.Builder
	dups.WriteString(strings.TrimSuffix(claimsJSON(b, cloudClaimsOK, nil), "}"))
	for i := 0; dups.Len() < 47*1024; i++ { // thousands of names, each twice: a problem each
		fmt.Fprintf(&dups, `,"a%d":1,"a%d":2`, i, i)
	}
	dups.WriteString("}")
	for _, tc := range []struct{ name, token string }{
		{"OtherTool", string(other)},
		{"Duplicates63KB", forge(cloudHeaderOK, dups.String(), rs)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tc.token); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

// TestCloudVerifierWithoutIssuerOrKeyID: without WithIssuer or WithKeyID
// the verifier cannot check that value; it accepts any, says so in a
// warning, and still refuses a token that lacks it.
func TestCloudVerifierWithoutIssuerOrKeyID(t *testing.T) {
	v, err := NewCloudVerifier(testCertKey(t), WithClock(fixedClock))
	require.NoError(t, err)
	token := forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(testKey(t), crypto.SHA256))
	cl, err := v.Verify(token)
	require.NoError(t, err)
	var warned []string
	for _, p := range cl.Warnings {
		warned = append(warned, p.Claim)
		assert.Contains(t, p.Rule, "not checked")
	}
	assert.ElementsMatch(t, []string{"iss", "header.kid"}, warned)

	noIss := forge(`{"alg":"RS256","typ":"JWT"}`, claimsJSON(t, cloudClaimsOK, func(m map[string]any) { delete(m, "iss") }), rsaSign(testKey(t), crypto.SHA256))
	_, err = v.Verify(noIss)
	assert.Equal(t, []string{"header.kid", "iss"}, problems(t, err), "missing values are still refused")
}
