package qsjwt

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine/enginetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzVerify feeds arbitrary text to Decode and both verifiers, keyed with
// the committed certificate: they must never panic; a refusal is a
// *VerifyError with at least one problem that is not a warning; and a token
// they accept must verify with crypto/rsa over its exact bytes (the
// malleable tokens of issue 10.3 in testdata/fuzz/FuzzVerify keep a
// signature over other bytes), with the claims read from those bytes.
// Mutated text almost never carries a valid signature, so this target
// explores parsing and refusals; FuzzVerifyClaims signs what it fuzzes and
// explores the rules.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{"test-only-cloud-openssl.jwt", "test-only-cloud-othertool.jwt", "test-only-qseow-openssl-rs512.jwt"} {
		f.Add(string(mustRead(f, "testdata/"+name)))
	}
	key := testKey(f)
	f.Add(signWith(key, `{"alg":"RS256"}`, `{"userId":"a","userDirectory":"d","userId":"b"}`))
	f.Add(signWith(key, `{"alg":"RS256"}`, `{"userId":"a","userDirectory":"d"}`))
	f.Add(`eyJhbGciOiJub25lIn0.e30.`)
	f.Add("a.b.c.d.e")
	f.Add(`{"payload":""}`)
	pub := testCertKey(f)
	cloud, err := NewCloudVerifier(pub, WithClock(fixedClock), WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid-1"))
	require.NoError(f, err)
	qseow, err := NewQSEoWVerifier(pub, WithClock(fixedClock))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, token string) {
		d, decErr := Decode(token)
		if decErr != nil {
			assert.True(t, errors.Is(decErr, errMalformedToken), "%v", decErr)
		} else {
			_ = d.String()
			_, err := d.MarshalJSON()
			assert.NoError(t, err)
		}
		cl, err := qseow.Verify(token)
		if err == nil {
			require.NoError(t, decErr, "an accepted token decodes")
			checkAcceptedQSEoW(t, token, pub, cl)
		} else {
			requireRefusal(t, err)
		}
		cc, err := cloud.Verify(token)
		if err == nil {
			require.NoError(t, decErr, "an accepted token decodes")
			checkAcceptedCloud(t, token, pub, cc)
		} else {
			requireRefusal(t, err)
		}
	})
}

// FuzzVerifyClaims fuzzes the header and payload JSON of a token that is
// really signed over them (with the FastKey, under the hash its "alg"
// names), so that every rule after the signature is explored. Whatever a
// verifier accepts must verify with crypto/rsa over the exact bytes, and
// must satisfy, read by encoding/json alone from the signed bytes, what
// the verifier promises: the claims it returns are the token's, the times
// hold at the verifier's clock, and for Qlik Cloud every required claim is
// there with its one allowed value.
func FuzzVerifyClaims(f *testing.F) {
	const cloudHeader = `{"alg":"RS256","kid":"kid-1","typ":"JWT"}`
	iat := fixedNow.Unix()
	f.Add(cloudHeader, fmt.Sprintf(`{"iss":"tenant.eu.qlikcloud.com","aud":"qlik.api/login/jwt-session","sub":"anna-42","subType":"user","name":"Anna","email":"anna@example.com","email_verified":true,"groups":["g1"],"jti":"j1","iat":%d,"nbf":%d,"exp":%d}`, iat, iat-5, iat+300))
	f.Add(`{"alg":"RS512","typ":"JWT"}`, fmt.Sprintf(`{"userId":"anna","userDirectory":"D","group":["g1","g2"],"name":"Anna","department":"sales","n":1.5,"iat":%d,"exp":%d}`, iat, iat+3600))
	f.Add(`{"alg":"RS384"}`, `{"userId":"a","userDirectory":"d","userId":"b"}`)
	f.Add(`{"alg":"none"}`, `{"userId":"a","userDirectory":"d"}`)
	_, pub := fastSigner(f)
	cloud, err := NewCloudVerifier(pub, WithClock(fixedClock), WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid-1"))
	require.NoError(f, err)
	qseow, err := NewQSEoWVerifier(pub, WithClock(fixedClock))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, header, payload string) {
		token := signFast(header, payload)
		if cl, err := qseow.Verify(token); err == nil {
			checkAcceptedQSEoW(t, token, pub, cl)
		} else {
			requireRefusal(t, err)
		}
		if cc, err := cloud.Verify(token); err == nil {
			checkAcceptedCloud(t, token, pub, cc)
		} else {
			requireRefusal(t, err)
		}
	})
}

// signWith signs header and payload with a two-prime key: for seeds only.
func signWith(key *rsa.PrivateKey, header, payload string) string {
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// skewSeconds is the verifiers' default clock skew, plus one second for
// rounding: the model below checks times loosely, the verifier exactly.
const skewSeconds = 5 + 1

// accepted is an accepted token read independently of the verifier: its
// signature checked with crypto/rsa over the exact bytes received, its
// header and claims decoded by encoding/json (numbers as json.Number) from
// those bytes.
type accepted struct {
	header, claims map[string]any
}

func readAccepted(t *testing.T, token string, pub *rsa.PublicKey) accepted {
	t.Helper()
	token = strings.TrimSpace(token)
	verifyStdlib(t, token, pub)
	var a accepted
	for i, dst := range []*map[string]any{&a.header, &a.claims} {
		dec := json.NewDecoder(bytes.NewReader(segment(t, token, i)))
		dec.UseNumber()
		require.NoError(t, dec.Decode(dst), "an accepted token's segment %d is a JSON object", i)
		require.NotNil(t, *dst)
	}
	return a
}

// num returns the claim as a number, and whether it is one.
func (a accepted) num(name string) (float64, bool) {
	n, ok := a.claims[name].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// checkTime requires the verifier's time to be the claim's whole seconds.
func (a accepted) checkTime(t *testing.T, name string, got time.Time) {
	t.Helper()
	v, ok := a.num(name)
	if !ok {
		return
	}
	require.Equal(t, math.Trunc(v), v, "%s is whole seconds", name)
	require.Equal(t, int64(v), got.Unix(), "%s as the verifier reads it", name)
}

// checkValid requires exp and nbf to hold at the verifiers' clock.
func (a accepted) checkValid(t *testing.T) {
	t.Helper()
	now := float64(fixedNow.Unix())
	if exp, ok := a.num("exp"); ok {
		require.Greater(t, exp, now-skewSeconds, "an accepted token has not expired")
	}
	if nbf, ok := a.num("nbf"); ok {
		require.LessOrEqual(t, nbf, now+skewSeconds, "an accepted token is valid already")
	}
	if exp, ok := a.num("exp"); ok {
		nbf, has := a.num("nbf")
		require.True(t, !has || nbf < exp, "nbf before exp")
	}
}

// same requires the verifier's value to be the claim's, as JSON.
func (a accepted) same(t *testing.T, name string, got any) {
	t.Helper()
	require.Contains(t, a.claims, name)
	require.Equal(t, numJSON(t, a.claims[name]), numJSON(t, got), "claim %q as the verifier returns it", name)
}

// numJSON returns v as encoding/json reads it back with json.Number.
func numJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var back any
	require.NoError(t, dec.Decode(&back))
	return back
}

func (a accepted) alg(t *testing.T, allowed ...string) string {
	t.Helper()
	alg, _ := a.header["alg"].(string)
	require.Contains(t, allowed, alg)
	require.NotContains(t, a.header, "crit")
	require.NotContains(t, a.header, "b64")
	return alg
}

// checkAcceptedQSEoW: what the QSEoW verifier accepted is signed over its
// exact bytes and holds what Verify promises, read independently.
func checkAcceptedQSEoW(t *testing.T, token string, pub *rsa.PublicKey, cl *QSEoWClaims) {
	t.Helper()
	a := readAccepted(t, token, pub)
	assert.Equal(t, Algorithm(a.alg(t, "RS256", "RS384", "RS512")), cl.Algorithm)
	for name, got := range map[string]string{DefaultUserIDClaim: cl.UserID, DefaultUserDirectoryClaim: cl.UserDirectory} {
		a.same(t, name, got)
		require.NotEmpty(t, got)
		require.Equal(t, strings.TrimSpace(got), got, name)
		require.NotContains(t, got, `\`, name)
	}
	for name, got := range map[string]string{"name": cl.Name, "email": cl.Email, "aud": cl.Audience} {
		if got != "" {
			a.same(t, name, got)
		}
	}
	if cl.Groups != nil {
		a.same(t, DefaultGroupsClaim, cl.Groups)
	}
	for name, v := range cl.Attributes {
		a.same(t, name, v)
	}
	a.checkTime(t, "iat", cl.IssuedAt)
	a.checkTime(t, "nbf", cl.NotBefore)
	a.checkTime(t, "exp", cl.ExpiresAt)
	a.checkValid(t)
}

// checkAcceptedCloud: what the Cloud verifier accepted is signed over its
// exact bytes and has every claim Qlik Cloud requires, with the value the
// verifier returns and the one Qlik Cloud allows.
func checkAcceptedCloud(t *testing.T, token string, pub *rsa.PublicKey, cl *CloudClaims) {
	t.Helper()
	a := readAccepted(t, token, pub)
	assert.Equal(t, RS256, Algorithm(a.alg(t, "RS256")))
	assert.Equal(t, "kid-1", a.header["kid"])
	assert.Equal(t, cl.KeyID, a.header["kid"])
	for name, want := range map[string]any{"iss": "tenant.eu.qlikcloud.com", "aud": CloudAudience, "subType": "user"} {
		assert.Equal(t, want, a.claims[name], name)
	}
	for name, got := range map[string]string{"iss": cl.Issuer, "aud": cl.Audience, "subType": cl.SubjectType, "sub": cl.Subject, "name": cl.Name, "email": cl.Email} {
		a.same(t, name, got)
		require.NotEmpty(t, got, name)
	}
	a.same(t, "email_verified", cl.EmailVerified)
	if cl.Groups != nil {
		a.same(t, "groups", cl.Groups)
	}
	if cl.ID != "" {
		a.same(t, "jti", cl.ID)
	}
	for name, v := range cl.Other {
		a.same(t, name, v)
	}
	for _, name := range []string{"iat", "nbf", "exp"} {
		_, ok := a.num(name)
		require.True(t, ok, "%s is a number", name)
	}
	a.checkTime(t, "iat", cl.IssuedAt)
	a.checkTime(t, "nbf", cl.NotBefore)
	a.checkTime(t, "exp", cl.ExpiresAt)
	a.checkValid(t)
	iat, _ := a.num("iat")
	nbf, _ := a.num("nbf")
	exp, _ := a.num("exp")
	require.LessOrEqual(t, exp-iat, CloudMaxLifetime.Seconds())
	require.LessOrEqual(t, exp-nbf, CloudMaxLifetime.Seconds())
}

// TestVerifyOracleChecksExactBytes shows that FuzzVerify's oracle would fail
// on the malleable tokens of issue 10.3 (its seeds) if a verifier accepted
// them: their signature verifies over the original bytes, which jwx v2
// rebuilds from the decoded segments, but not over the bytes received, which
// the oracle hashes.
func TestVerifyOracleChecksExactBytes(t *testing.T) {
	pub := testCertKey(t)
	for _, name := range []string{"malleable-header-respaced", "malleable-crlf-in-payload"} {
		lines := strings.Split(string(mustRead(t, "testdata/fuzz/FuzzVerify/"+name)), "\n")
		require.True(t, strings.HasPrefix(lines[1], "string(") && strings.HasSuffix(lines[1], ")"), name)
		token, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		require.NoError(t, err, name)
		dot := strings.LastIndexByte(token, '.')
		sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
		require.NoError(t, err, name)
		sum := sha256.Sum256([]byte(token[:dot]))
		assert.Error(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig), "%s: not signed over the bytes received", name)
		_, err = enginetest.JWXVerify(token, "RS256", pub)
		t.Logf("%s: jwx v2's jws.Verify, which rebuilds the signing input, returns %v", name, err)
	}
}
