package qsjwt

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzQSEoWSign feeds arbitrary user fields, attribute names and values, an
// audience and a groups claim name to the QSEoW builder, signing with the
// FastKey. It must never panic. A builder refused for its options is
// refused with *OptionError, and so is a verifier given the same shared
// options; a refused user gets only *ClaimError and no token. A token it
// signs must verify with crypto/rsa over its exact bytes and with jwx, carry
// exactly the claims given (no other), and be accepted by a QSEoWVerifier
// configured alike, with no warning and the same values back.
func FuzzQSEoWSign(f *testing.F) {
	f.Add("anna", "GRUSGRUS", "Anna Andersson", "anna@example.com", "g1", "department", "sales", 1.5, "", "")
	f.Add("", "", "", "", "", "", "", 0.0, "", "")
	f.Add(`DIR\anna`, " D", "\x00", "a@b", " ", "exp", "1", -0.0, "aud\n", "userId")
	f.Add("anna", "D", "", "", "group 2,g3", "userId", "eve", 1e21, "hdJh34wkK", "groups")
	f.Add("ä\u2028", "\u00a0D", "\"", "<script>", "\xff", "aud", "x", 5e-324, "a", "group")
	f.Add("M\xfcller", "D", "n", "e", "g", `x":"1","userId`, "admin", 3.0, "", "roles")
	signer, pub := fastSigner(f)
	f.Fuzz(func(t *testing.T, userID, dir, name, email, group, attr, value string, num float64, aud, groupsClaim string) {
		var shared []QSEoWSharedOption
		if aud != "" {
			shared = append(shared, WithAudience(aud))
		}
		if groupsClaim != "" {
			shared = append(shared, WithGroupsClaim(groupsClaim))
		} else {
			groupsClaim = DefaultGroupsClaim
		}
		bopts := []QSEoWOption{WithClock(fixedClock)}
		vopts := []QSEoWVerifierOption{WithClock(fixedClock)}
		for _, o := range shared {
			bopts, vopts = append(bopts, o), append(vopts, o)
		}
		q, err := NewQSEoW(signer, bopts...)
		v, verr := NewQSEoWVerifier(pub, vopts...)
		if err != nil {
			var oe *OptionError
			require.True(t, errors.As(err, &oe), "option refusals are *OptionError: %v", err)
			require.Error(t, verr, "the verifier refuses the shared options the builder refuses")
			return
		}
		require.NoError(t, verr, "the verifier takes the shared options the builder takes")

		var groups []string
		if group != "" {
			groups = strings.Split(group, ",")
		}
		attrs := map[string]any{attr: value, "n" + attr: num}
		u := QSEoWUser{UserID: userID, UserDirectory: dir, Name: name, Email: email, Groups: groups, Attributes: attrs}
		tok, err := q.Sign(context.Background(), u)
		if err != nil {
			requireClaimErrors(t, err)
			assert.Empty(t, tok.Raw)
			return
		}

		header, claims := checkBuilt(t, tok.Raw, pub)
		assert.Equal(t, map[string]any{"alg": "RS256", "typ": "JWT"}, header)
		want := map[string]any{DefaultUserIDClaim: userID, DefaultUserDirectoryClaim: dir, "iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Hour).Unix()}
		for k, v := range map[string]any{"aud": aud, "name": name, "email": email} {
			if v != "" {
				want[k] = v
			}
		}
		if len(groups) > 0 {
			want[groupsClaim] = groups
		}
		for k, v := range attrs {
			want[k] = v
		}
		require.Equal(t, asJSON(t, want), claims, "the token carries exactly the claims given")

		cl, err := v.Verify(tok.Raw)
		require.NoError(t, err, "our verifier accepts what our builder signs")
		assert.Empty(t, cl.Warnings)
		assert.Equal(t, []string{userID, dir, name, email, aud}, []string{cl.UserID, cl.UserDirectory, cl.Name, cl.Email, cl.Audience})
		assert.Equal(t, groups, cl.Groups)
		assert.Equal(t, asJSON(t, attrs), asJSON(t, cl.Attributes))
		assert.Equal(t, RS256, cl.Algorithm)
		assert.True(t, cl.IssuedAt.Equal(tok.IssuedAt) && cl.ExpiresAt.Equal(tok.ExpiresAt) && cl.NotBefore.IsZero())
	})
}

// FuzzCloudSign does the same for Qlik Cloud: arbitrary user fields, issuer
// and key ID, signed with the FastKey; a token it signs must verify
// independently, carry exactly the claims given, and be accepted by a
// CloudVerifier with that issuer and key ID, with no warning.
func FuzzCloudSign(f *testing.F) {
	f.Add("anna-42", "Anna Andersson", "anna@example.com", "g1", true, "tenant.eu.qlikcloud.com", "kid-1")
	f.Add("", "", "", "", false, "", "")
	f.Add(" s", "n", "no-at", "", false, "iss", "kid")
	f.Add("s\x00", "\u2028", "@", "\xff", true, "i\x00", "k\n")
	f.Add("M\xf6ller", "n", "a@b", "g1,,g2", true, " iss", "kid ")
	signer, pub := fastSigner(f)
	f.Fuzz(func(t *testing.T, sub, name, email, group string, verified bool, issuer, kid string) {
		c, err := NewCloud(signer, issuer, kid, WithClock(fixedClock))
		if err != nil {
			var oe *OptionError
			require.True(t, errors.As(err, &oe), "option refusals are *OptionError: %v", err)
			return
		}
		c = withRandom(c, zeroReader{})
		v, err := NewCloudVerifier(pub, WithClock(fixedClock), WithIssuer(issuer), WithKeyID(kid))
		require.NoError(t, err, "the verifier takes the issuer and key ID the builder takes")

		var groups []string
		if group != "" {
			groups = strings.Split(group, ",")
		}
		u := CloudUser{Subject: sub, Name: name, Email: email, EmailVerified: verified, Groups: groups}
		tok, err := c.Sign(context.Background(), u)
		if err != nil {
			requireClaimErrors(t, err)
			assert.Empty(t, tok.Raw)
			return
		}

		header, claims := checkBuilt(t, tok.Raw, pub)
		assert.Equal(t, map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}, header)
		want := map[string]any{"iss": issuer, "aud": CloudAudience, "sub": sub, "subType": "user", "name": name, "email": email,
			"email_verified": verified, "jti": tok.ID, "iat": fixedNow.Unix(), "nbf": fixedNow.Add(-DefaultNotBeforeSkew).Unix(),
			"exp": fixedNow.Add(5 * time.Minute).Unix()}
		if len(groups) > 0 {
			want["groups"] = groups
		}
		require.Equal(t, asJSON(t, want), claims, "the token carries exactly the claims given")

		cl, err := v.Verify(tok.Raw)
		require.NoError(t, err, "our verifier accepts what our builder signs")
		assert.Empty(t, cl.Warnings)
		assert.Equal(t, u.Groups, cl.Groups)
		cl.Groups = u.Groups
		assert.Equal(t, u, cl.CloudUser)
		assert.Equal(t, []string{issuer, CloudAudience, "user", tok.ID, kid}, []string{cl.Issuer, cl.Audience, cl.SubjectType, cl.ID, cl.KeyID})
		assert.Equal(t, RS256, cl.Algorithm)
		assert.Empty(t, cl.Other)
		assert.True(t, cl.IssuedAt.Equal(tok.IssuedAt) && cl.ExpiresAt.Equal(tok.ExpiresAt))
	})
}

// FuzzSignRSA2048 is the one target that signs with a real two-prime
// RSA-2048 key (the committed test key, read as a program reads a PEM file:
// crypto/rsa signs and checks its own signature), so it runs hundreds, not
// thousands, of times a second. Both builders sign the fuzzed user; each
// token must verify with the certificate's key through crypto/rsa, jwx and
// our verifier, with the values given.
func FuzzSignRSA2048(f *testing.F) {
	f.Add("anna", "GRUSGRUS", "anna-42", "Anna Andersson")
	f.Add("", "", "", "")
	f.Add("ä😀", "D\u2028", "s", "\xff")
	key, err := ParsePrivateKey(mustRead(f, "testdata/test-only-rsa2048-pkcs8.pem"))
	require.NoError(f, err)
	signer, err := SignerFromCrypto(key)
	require.NoError(f, err)
	q, err := NewQSEoW(signer, WithClock(fixedClock), WithAlgorithm(RS512))
	require.NoError(f, err)
	c, err := NewCloud(signer, "tenant.eu.qlikcloud.com", "kid-1", WithClock(fixedClock))
	require.NoError(f, err)
	c = withRandom(c, zeroReader{})
	pub := testCertKey(f)
	qv, err := NewQSEoWVerifier(pub, WithClock(fixedClock))
	require.NoError(f, err)
	cv, err := NewCloudVerifier(pub, WithClock(fixedClock), WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid-1"))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, userID, dir, sub, name string) {
		if tok, err := q.Sign(context.Background(), QSEoWUser{UserID: userID, UserDirectory: dir}); err != nil {
			requireClaimErrors(t, err)
		} else {
			header, claims := checkBuilt(t, tok.Raw, pub)
			assert.Equal(t, "RS512", header["alg"])
			assert.Equal(t, asJSON(t, map[string]any{"userId": userID, "userDirectory": dir, "iat": tok.IssuedAt.Unix(), "exp": tok.ExpiresAt.Unix()}), claims)
			cl, err := qv.Verify(tok.Raw)
			require.NoError(t, err)
			assert.Equal(t, []string{userID, dir}, []string{cl.UserID, cl.UserDirectory})
		}
		u := CloudUser{Subject: sub, Name: name, Email: "anna@example.com", EmailVerified: true}
		if tok, err := c.Sign(context.Background(), u); err != nil {
			requireClaimErrors(t, err)
		} else {
			_, claims := checkBuilt(t, tok.Raw, pub)
			assert.Equal(t, []any{sub, name}, []any{claims["sub"], claims["name"]})
			cl, err := cv.Verify(tok.Raw)
			require.NoError(t, err)
			assert.Equal(t, u, cl.CloudUser)
		}
	})
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

// TestConcurrentSign signs from many goroutines with one builder of each
// variant; run under -race it shows the builders share no mutable state
// (jwx headers are built fresh per token).
func TestConcurrentSign(t *testing.T) {
	q := newTestQSEoW(t, WithAudience("aud"))
	c := newTestCloud(t)
	pub := testCertKey(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	jtis := map[string]bool{}
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				qt, err := q.Sign(context.Background(), QSEoWUser{UserDirectory: "D", UserID: "u"})
				if !assert.NoError(t, err) {
					return
				}
				verifyStdlib(t, qt.Raw, pub)
				ct, err := c.Sign(context.Background(), anna)
				if !assert.NoError(t, err) {
					return
				}
				d := verifyStdlib(t, ct.Raw, pub)
				assert.Equal(t, `"kid-1"`, string(d.header["kid"]), "goroutine %d", g)
				mu.Lock()
				assert.False(t, jtis[ct.ID])
				jtis[ct.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, jtis, 64)
}
