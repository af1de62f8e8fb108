package qsjwt

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestCloud(t *testing.T, opts ...CloudOption) *Cloud {
	t.Helper()
	c, err := NewCloud(testSigner(t), "tenant.eu.qlikcloud.com", "kid-1", append([]CloudOption{WithClock(fixedClock)}, opts...)...)
	require.NoError(t, err)
	return c
}

var anna = CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true, Groups: []string{"g1"}}

func TestCloudSignClaims(t *testing.T) {
	c := newTestCloud(t)
	tok, err := c.Sign(context.Background(), anna)
	require.NoError(t, err)
	d := verifyStdlib(t, tok.Raw, testCertKey(t))

	assert.Equal(t, `"RS256"`, string(d.header["alg"]))
	assert.Equal(t, `"kid-1"`, string(d.header["kid"]))
	assert.Equal(t, `"JWT"`, string(d.header["typ"]))
	assert.Len(t, d.header, 3)

	want := map[string]string{
		"iss":            `"tenant.eu.qlikcloud.com"`,
		"aud":            `"qlik.api/login/jwt-session"`, // a string, not an array
		"sub":            `"anna-42"`,
		"subType":        `"user"`,
		"name":           `"Anna Andersson"`,
		"email":          `"anna@example.com"`,
		"email_verified": `true`, // a JSON boolean, not "true"
		"groups":         `["g1"]`,
		"iat":            "1795953600",
		"nbf":            "1795953595", // five seconds before iat
		"exp":            "1795953900", // five minutes after iat
	}
	for name, v := range want {
		assert.Equal(t, v, d.str(name), name)
	}
	assert.Len(t, d.claims, len(want)+1, "the fixed claim set plus jti")
	assert.NotContains(t, d.claims, "group", "Qlik Cloud reads groups, plural")

	// jti: 128 random bits, base64url, the one the Token reports.
	assert.Equal(t, `"`+tok.ID+`"`, d.str("jti"))
	b, err := base64.RawURLEncoding.DecodeString(tok.ID)
	require.NoError(t, err)
	assert.Len(t, b, 16)
	assert.Equal(t, fixedNow.Add(5*time.Minute), tok.ExpiresAt)
}

func TestCloudJTIUniqueAndSubjectStable(t *testing.T) {
	c := newTestCloud(t)
	seen := map[string]bool{}
	for range 50 {
		tok, err := c.Sign(context.Background(), anna)
		require.NoError(t, err)
		assert.False(t, seen[tok.ID], "jti %s reused", tok.ID)
		seen[tok.ID] = true
		d := verifyStdlib(t, tok.Raw, testCertKey(t))
		assert.Equal(t, `"anna-42"`, d.str("sub"), "sub is the caller's, never generated")
	}
}

func TestCloudOmitsEmptyGroupsAndFalseVerified(t *testing.T) {
	u := anna
	u.Groups, u.EmailVerified = nil, false
	tok, err := newTestCloud(t).Sign(context.Background(), u)
	require.NoError(t, err)
	d := verifyStdlib(t, tok.Raw, testCertKey(t))
	assert.NotContains(t, d.claims, "groups")
	assert.Equal(t, "false", d.str("email_verified"))
}

func TestCloudLifetime(t *testing.T) {
	cases := []struct {
		name     string
		opts     []CloudOption
		iat, nbf int64
		exp      int64
	}{
		{"ttl and skew", []CloudOption{WithTTL(10 * time.Minute), WithNotBeforeSkew(30 * time.Second)}, 1795953600, 1795953570, 1795954200},
		{"zero skew", []CloudOption{WithNotBeforeSkew(0)}, 1795953600, 1795953600, 1795953900},
		{"exactly one hour from nbf", []CloudOption{WithTTL(time.Hour - 5*time.Second)}, 1795953600, 1795953595, 1795957195},
		{"one hour, no skew", []CloudOption{WithTTL(time.Hour), WithNotBeforeSkew(0)}, 1795953600, 1795953600, 1795957200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := newTestCloud(t, tc.opts...).Sign(context.Background(), anna)
			require.NoError(t, err)
			d := verifyStdlib(t, tok.Raw, testCertKey(t))
			assert.Equal(t, tc.iat, jsonInt(t, d, "iat"))
			assert.Equal(t, tc.nbf, jsonInt(t, d, "nbf"))
			assert.Equal(t, tc.exp, jsonInt(t, d, "exp"))
			assert.LessOrEqual(t, tc.exp-tc.nbf, int64(3600))
			assert.LessOrEqual(t, tc.exp-tc.iat, int64(3600))
		})
	}
}

func jsonInt(t *testing.T, d decoded, name string) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(d.str(name), &n)
	require.NoError(t, err, name)
	return n
}

func TestCloudClaimRules(t *testing.T) {
	cases := []struct {
		name   string
		change func(u *CloudUser)
		claim  string
		field  string
		want   error
	}{
		{"no subject", func(u *CloudUser) { u.Subject = "" }, "sub", "CloudUser.Subject", errMissingClaim},
		{"blank subject", func(u *CloudUser) { u.Subject = " anna" }, "sub", "CloudUser.Subject", errInvalidClaim},
		{"no name", func(u *CloudUser) { u.Name = "" }, "name", "CloudUser.Name", errMissingClaim},
		{"no email", func(u *CloudUser) { u.Email = "" }, "email", "CloudUser.Email", errMissingClaim},
		{"email without @", func(u *CloudUser) { u.Email = "anna" }, "email", "CloudUser.Email", errInvalidClaim},
		{"empty group", func(u *CloudUser) { u.Groups = []string{""} }, "groups", "CloudUser.Groups[0]", errInvalidClaim},
		{"subject not UTF-8", func(u *CloudUser) { u.Subject = "M\xfcller" }, "sub", "CloudUser.Subject", errInvalidClaim},
		{"name not UTF-8", func(u *CloudUser) { u.Name = "M\xf6ller" }, "name", "CloudUser.Name", errInvalidClaim},
		{"email not UTF-8", func(u *CloudUser) { u.Email = "m\xfc@example.com" }, "email", "CloudUser.Email", errInvalidClaim},
		{"group not UTF-8", func(u *CloudUser) { u.Groups = []string{"g1", "\xff"} }, "groups", "CloudUser.Groups[1]", errInvalidClaim},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := anna
			tc.change(&u)
			tok, err := newTestCloud(t).Sign(context.Background(), u)
			require.Error(t, err)
			assert.Empty(t, tok.Raw)
			assert.ErrorIs(t, err, tc.want)
			var ce *ClaimError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.claim, ce.Claim)
			assert.Equal(t, tc.want == errMissingClaim, ce.Missing(), "what a caller outside the package can ask")
			assert.Contains(t, err.Error(), tc.field)
			assert.NotErrorIs(t, err, ErrSigner)
		})
	}
}

// TestCloudSignReportsEveryClaimProblem: two people whose names differ
// only in bytes that are not UTF-8 must not become one Qlik user, and every
// problem of a user is named at once.
func TestCloudSignReportsEveryClaimProblem(t *testing.T) {
	c := newTestCloud(t)
	_, err := c.Sign(context.Background(), CloudUser{Subject: "M\xfcller", Name: "", Email: "no-at", Groups: []string{"", "\xf6"}})
	require.Error(t, err)
	var fields []string
	for _, e := range unjoin(err) {
		var ce *ClaimError
		require.ErrorAs(t, e, &ce)
		fields = append(fields, ce.Field)
	}
	assert.Equal(t, []string{"CloudUser.Subject", "CloudUser.Name", "CloudUser.Email", "CloudUser.Groups[0]", "CloudUser.Groups[1]"}, fields)
}

func TestNewCloudOptionErrors(t *testing.T) {
	s := testSigner(t)
	cases := []struct {
		name        string
		signer      Signer
		issuer, kid string
		opts        []CloudOption
		options     []string
	}{
		{"nothing", nil, "", "", nil, []string{"signer", "issuer", "keyID"}},
		{"no issuer", s, "", "k", nil, []string{"issuer"}},
		{"no key ID", s, "i", "", nil, []string{"keyID"}},
		{"blank issuer", s, " i", "k", nil, []string{"issuer"}},
		{"issuer not UTF-8", s, "tenant-\xfc", "k", nil, []string{"issuer"}},
		{"key ID not UTF-8", s, "i", "k\xff", nil, []string{"keyID"}},
		{"1024-bit signer", SignerFunc(smallKey(t).Public(), nil), "i", "k", nil, []string{"signer"}},
		{"ttl over an hour", s, "i", "k", []CloudOption{WithTTL(365 * 24 * time.Hour)}, []string{"WithTTL"}},
		{"ttl of 292 years", s, "i", "k", []CloudOption{WithTTL(math.MaxInt64)}, []string{"WithTTL"}},
		{"ttl one hour plus default skew", s, "i", "k", []CloudOption{WithTTL(time.Hour)}, []string{"WithTTL"}},
		{"skew pushes over an hour", s, "i", "k", []CloudOption{WithTTL(59 * time.Minute), WithNotBeforeSkew(2 * time.Minute)}, []string{"WithNotBeforeSkew"}},
		{"skew of 292 years", s, "i", "k", []CloudOption{WithNotBeforeSkew(math.MaxInt64)}, []string{"WithNotBeforeSkew"}},
		{"negative skew", s, "i", "k", []CloudOption{WithNotBeforeSkew(-time.Second)}, []string{"WithNotBeforeSkew"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCloud(tc.signer, tc.issuer, tc.kid, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, errInvalidOption)
			for _, o := range tc.options {
				assert.True(t, hasOption(unjoin(err), o), "an *OptionError names %s: %v", o, err)
			}
			assert.Len(t, unjoin(err), len(tc.options), "one error per problem: %v", err)
		})
	}
}

func TestCloudRandomFailure(t *testing.T) {
	c := withRandom(newTestCloud(t), bytes.NewReader(make([]byte, 8)))
	_, err := c.Sign(context.Background(), anna)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "jti")
}

func TestFormatNeverPrintsKeyMaterial(t *testing.T) {
	key := testKey(t)
	secret := key.D.String()[:20]
	modulus := base64.RawURLEncoding.EncodeToString(key.N.Bytes())[:20]
	s := testSigner(t)
	q := newTestQSEoW(t)
	c := newTestCloud(t)
	for _, v := range []any{s, q, c, *q, *c, SignerFunc(key.Public(), nil)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s of %T", verb, v)
			assert.NotContains(t, out, modulus, "%s of %T", verb, v)
			assert.NotContains(t, out, key.N.String()[:20], "%s of %T", verb, v)
			assert.False(t, strings.Contains(out, "PRIVATE"), "%s of %T", verb, v)
		}
	}
}
