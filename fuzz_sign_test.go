package qsjwt

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzQSEoWSign feeds arbitrary user fields to the QSEoW builder: it must
// never panic, must refuse with a *ClaimError, and whatever it signs must
// verify with crypto/rsa and carry exactly the values given.
func FuzzQSEoWSign(f *testing.F) {
	f.Add("anna", "GRUSGRUS", "Anna Andersson", "anna@example.com", "g1", "department", "sales")
	f.Add("", "", "", "", "", "", "")
	f.Add(`DIR\anna`, " D", "\x00", "a@b", " ", "exp", "1")
	f.Add("anna", "D", "", "", "group 2", "userId", "eve")
	f.Add("ä\u2028", "\u00a0D", "\"", "<script>", "\xff", "aud", "x")
	q, err := NewQSEoW(testSigner(f), WithClock(fixedClock))
	require.NoError(f, err)
	pub := testCertKey(f)
	f.Fuzz(func(t *testing.T, userID, dir, name, email, group, attr, value string) {
		u := QSEoWUser{UserID: userID, UserDirectory: dir, Name: name, Email: email, Groups: []string{group},
			Attributes: map[string]any{attr: value}}
		tok, err := q.Sign(context.Background(), u)
		if err != nil {
			var ce *ClaimError
			require.True(t, errors.As(err, &ce), "refusals are *ClaimError: %v", err)
			assert.Empty(t, tok.Raw)
			return
		}
		d := verifyStdlib(t, tok.Raw, pub)
		for claim, want := range map[string]any{"userId": userID, "userDirectory": dir, "group": []string{group}, attr: value} {
			wantJSON, _ := json.Marshal(want)
			var got, exp any
			require.NoError(t, json.Unmarshal(d.claims[claim], &got))
			require.NoError(t, json.Unmarshal(wantJSON, &exp))
			assert.Equal(t, exp, got, claim)
		}
	})
}

// FuzzCloudSign does the same for Qlik Cloud.
func FuzzCloudSign(f *testing.F) {
	f.Add("anna-42", "Anna Andersson", "anna@example.com", "g1", true)
	f.Add("", "", "", "", false)
	f.Add(" s", "n", "no-at", "", false)
	f.Add("s\x00", "\u2028", "@", "\xff", true)
	c, err := NewCloud(testSigner(f), "iss", "kid", WithClock(fixedClock))
	require.NoError(f, err)
	pub := testCertKey(f)
	f.Fuzz(func(t *testing.T, sub, name, email, group string, verified bool) {
		tok, err := c.Sign(context.Background(), CloudUser{Subject: sub, Name: name, Email: email, EmailVerified: verified, Groups: []string{group}})
		if err != nil {
			var ce *ClaimError
			require.True(t, errors.As(err, &ce), "refusals are *ClaimError: %v", err)
			return
		}
		d := verifyStdlib(t, tok.Raw, pub)
		var got struct {
			Sub, Name, Email string
			Verified         bool     `json:"email_verified"`
			Groups           []string `json:"groups"`
		}
		b, _ := json.Marshal(d.claims)
		require.NoError(t, json.Unmarshal(b, &got))
		// encoding/json replaces invalid UTF-8 with U+FFFD on both sides.
		want, _ := json.Marshal([]string{sub, name, email, group})
		have, _ := json.Marshal([]string{got.Sub, got.Name, got.Email, got.Groups[0]})
		assert.JSONEq(t, string(want), string(have))
		assert.Equal(t, verified, got.Verified)
	})
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
