package qsjwt

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForgeriesOfOurOwnTokens takes tokens qsjwt signed and changes them
// after signing, as an attacker would: the checker must refuse every one.
func TestForgeriesOfOurOwnTokens(t *testing.T) {
	ctx := context.Background()
	ctok, err := newTestCloud(t).Sign(ctx, anna)
	require.NoError(t, err)
	qtok, err := newTestQSEoW(t, WithAudience("aud")).Sign(ctx, QSEoWUser{UserDirectory: "D", UserID: "anna"})
	require.NoError(t, err)
	cloudV := newTestCloudVerifier(t)
	qseowV := newTestQSEoWVerifier(t, WithAudience("aud"))
	_, err = cloudV.Verify(ctok.Raw)
	require.NoError(t, err, "the untouched Cloud token passes")
	_, err = qseowV.Verify(qtok.Raw)
	require.NoError(t, err, "the untouched QSEoW token passes")

	// rewrite decodes one part, replaces old by new, and encodes it again,
	// keeping the original signature.
	rewrite := func(raw string, part int, old, new string) string {
		p := strings.Split(raw, ".")
		b, err := base64.RawURLEncoding.DecodeString(p[part])
		require.NoError(t, err)
		require.Contains(t, string(b), old)
		p[part] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(b), old, new, 1)))
		return strings.Join(p, ".")
	}
	resign := func(raw string, sign func([]byte) []byte) string {
		p := strings.Split(raw, ".")
		return p[0] + "." + p[1] + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(p[0]+"."+p[1])))
	}
	cases := []struct {
		name   string
		token  string
		verify func(string) error
	}{
		{"cloud: kid changed", rewrite(ctok.Raw, 0, `"kid":"kid-1"`, `"kid":"kid-2"`), func(s string) error { _, err := cloudV.Verify(s); return err }},
		{"cloud: alg swapped to RS384", rewrite(ctok.Raw, 0, `"RS256"`, `"RS384"`), func(s string) error { _, err := cloudV.Verify(s); return err }},
		{"cloud: alg swapped to none", strings.Join(strings.Split(rewrite(ctok.Raw, 0, `"RS256"`, `"none"`), ".")[:2], ".") + ".", func(s string) error { _, err := cloudV.Verify(s); return err }},
		{"cloud: sub changed", rewrite(ctok.Raw, 1, `"sub":"anna-42"`, `"sub":"admin"`), func(s string) error { _, err := cloudV.Verify(s); return err }},
		{"cloud: exp extended", rewrite(ctok.Raw, 1, `"exp":1795953900`, `"exp":1795955000`), func(s string) error { _, err := cloudV.Verify(s); return err }},
		{"cloud: signed by another key", resign(ctok.Raw, rsaSign(anotherKey(t), crypto.SHA256)), func(s string) error { _, err := cloudV.Verify(s); return err }},
		{"qseow: user changed", rewrite(qtok.Raw, 1, `"userId":"anna"`, `"userId":"admin"`), func(s string) error { _, err := qseowV.Verify(s); return err }},
		{"qseow: alg swapped to RS512", rewrite(qtok.Raw, 0, `"RS256"`, `"RS512"`), func(s string) error { _, err := qseowV.Verify(s); return err }},
		{"qseow: alg swapped to HS256", rewrite(qtok.Raw, 0, `"RS256"`, `"HS256"`), func(s string) error { _, err := qseowV.Verify(s); return err }},
		{"qseow: signed by another key", resign(qtok.Raw, rsaSign(anotherKey(t), crypto.SHA256)), func(s string) error { _, err := qseowV.Verify(s); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.verify(tc.token)
			require.Error(t, err)
			assert.True(t, errors.Is(err, errTokenRefused) || errors.Is(err, errMalformedToken), "%v", err)
		})
	}
}

// TestFormatEveryKeyHolder formats every exported type that can hold a key
// or a token with every verb, tokens and token sources after use: no
// private exponent, prime or modulus, and no part of a token, may appear.
func TestFormatEveryKeyHolder(t *testing.T) {
	key := testKey(t)
	secrets := []string{key.D.String()[:24], key.Primes[0].String()[:24], key.N.String()[:24],
		base64.RawURLEncoding.EncodeToString(key.N.Bytes())[:24], base64.StdEncoding.EncodeToString(key.D.Bytes())[:24]}
	q := newTestQSEoW(t)
	c := newTestCloud(t)
	qsrc, csrc := q.TokenSource(QSEoWUser{UserDirectory: "D", UserID: "u"}), c.TokenSource(anna)
	qtok, err := qsrc.Token(context.Background())
	require.NoError(t, err)
	ctok, err := csrc.Token(context.Background())
	require.NoError(t, err)
	secrets = append(secrets, tokenSecrets(qtok, ctok)...)
	values := []any{testSigner(t), q, c, *q, *c, newTestCloudVerifier(t), newTestQSEoWVerifier(t),
		WithPassphrase([]byte("test-only-passphrase")), qtok, ctok, &qtok, []Token{ctok}, qsrc, csrc} // sessions: session/format_test.go
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s of %T", verb, v)
			}
			assert.NotContains(t, out, "test-only-passphrase", "%s of %T", verb, v)
		}
	}
}
