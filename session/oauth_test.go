package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

const oauthAdminKey = "test-only-admin-api-key"

// oauthSetup is an emulated tenant with one OAuth client (both grants,
// secret and RS256 key) and the builder of its assertions.
type oauthSetup struct {
	tenant    *qliktest.Cloud
	clock     *qliktest.Clock
	clientID  string
	secret    string
	assertion *qsjwt.ClientAssertion
}

func newOAuthSetup(t *testing.T) *oauthSetup {
	t.Helper()
	clock := qliktest.NewClock(fixedNow)
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: oauthAdminKey, Now: clock.Now})
	t.Cleanup(c.Close)
	signer, err := qsjwt.SignerFromCrypto(testKey(t))
	require.NoError(t, err)
	tmp, err := qsjwt.NewClientAssertion(signer, "placeholder", c.URL, "rsa-1")
	require.NoError(t, err)
	jwk, err := tmp.PublicJWK()
	require.NoError(t, err)
	js, _ := json.Marshal(map[string]any{"clientName": "portal", "appType": "web",
		"allowedGrantTypes":  []string{GrantClientCredentials, GrantImpersonation},
		"allowedScopes":      []string{"user_default"},
		"allowedAuthMethods": []string{"client_secret", "private_key_jwt"}, "publicKeys": []json.RawMessage{jwk}})
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/api/v1/oauth-clients", bytes.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+oauthAdminKey)
	resp, err := c.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var out struct{ ClientID, ClientSecret string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	a, err := qsjwt.NewClientAssertion(signer, out.ClientID, c.URL, "rsa-1", qsjwt.WithClock(clock.Now))
	require.NoError(t, err)
	return &oauthSetup{tenant: c, clock: clock, clientID: out.ClientID, secret: out.ClientSecret, assertion: a}
}

func (s *oauthSetup) oauth(t *testing.T, opts ...OAuthOption) *OAuth {
	t.Helper()
	opts = append([]OAuthOption{WithBaseTransport(s.tenant.Client().Transport), WithClock(s.clock.Now)}, opts...)
	o, err := NewOAuth(s.tenant.URL, s.clientID, opts...)
	require.NoError(t, err)
	return o
}

// me returns the subject /api/v1/users/me shows for the access token.
func (s *oauthSetup) me(t *testing.T, tok qsjwt.Token) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.tenant.URL+"/api/v1/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
	resp, err := s.tenant.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var u struct{ Subject string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&u))
	return u.Subject
}

func TestOAuthAssertionClientCredentialsCachedAndShared(t *testing.T) {
	s := newOAuthSetup(t)
	o := s.oauth(t, WithClientAssertion(s.assertion))
	var wg sync.WaitGroup
	toks := make([]qsjwt.Token, 16)
	errs := make([]error, 16)
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = o.Token(context.Background()) })
	}
	wg.Wait()
	for i := range toks {
		require.NoError(t, errs[i])
		assert.Equal(t, toks[0], toks[i], "every caller gets the one token")
	}
	assert.Equal(t, 1, s.tenant.OAuthTokenRequests(), "one request for 16 concurrent callers")
	assert.Equal(t, "oauth-client/"+s.clientID, s.me(t, toks[0]))
	assert.Equal(t, fixedNow.Add(qliktest.OAuthTokenLifetime), toks[0].ExpiresAt)

	s.clock.Advance(qliktest.OAuthTokenLifetime - 2*time.Minute)
	again, err := o.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, toks[0], again, "cached until shortly before expires_in")
	s.clock.Advance(time.Minute + time.Second)
	fresh, err := o.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, toks[0].Raw, fresh.Raw, "renewed a minute before expiry")
	assert.Equal(t, 2, s.tenant.OAuthTokenRequests())
}

func TestOAuthSecretEnsureUserAndImpersonation(t *testing.T) {
	s := newOAuthSetup(t)
	o := s.oauth(t, WithClientSecret(s.secret), WithScopes("user_default"))
	ctx := context.Background()

	_, err := o.ImpersonateSubject("anna").Token(ctx)
	var oe *OAuthError
	require.ErrorAs(t, err, &oe, "no user anna yet")
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
	assert.ErrorIs(t, err, ErrQlik)

	id, err := o.EnsureUser(ctx, `anna "the" \admin`, "Anna", "anna@example.com")
	require.NoError(t, err)
	id2, err := o.EnsureUser(ctx, `anna "the" \admin`, "Anna", "anna@example.com")
	require.NoError(t, err)
	assert.Equal(t, id, id2, "found, not created twice")

	// The failed impersonation backs off: wait, then it works.
	_, err = o.ImpersonateSubject(`anna "the" \admin`).Token(ctx)
	require.NoError(t, err, "another user, no back-off")
	_, err = o.ImpersonateSubject("anna").Token(ctx)
	assert.ErrorIs(t, err, ErrBackoff)

	_, err = o.EnsureUser(ctx, "anna", "Anna", "")
	require.NoError(t, err)
	_, err = o.ImpersonateSubject("anna").Token(ctx)
	require.NoError(t, err, "EnsureUser ends the back-off its absence started")

	tok, err := o.ImpersonateUserID(id).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, `anna "the" \admin`, s.me(t, tok))
	cc, err := o.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, tok.Raw, cc.Raw, "tokens are cached per user")
}

func TestOAuthRateLimitAndErrorsKeepSecrets(t *testing.T) {
	s := newOAuthSetup(t)
	o := s.oauth(t, WithClientSecret(s.secret), WithScopes("user_default"))
	ctx := context.Background()
	cc, err := o.Token(ctx)
	require.NoError(t, err)

	s.tenant.LimitOAuthTokens(1)
	_, err = o.ImpersonateUserID("someone").Token(ctx)
	var oe *OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusTooManyRequests, oe.StatusCode)
	assert.Equal(t, 30*time.Second, oe.RetryAfter)
	sent := s.tenant.OAuthTokenRequests()
	_, err = o.ImpersonateUserID("someone").Token(ctx)
	var be *BackoffError
	require.ErrorAs(t, err, &be)
	assert.False(t, be.Until.Before(fixedNow.Add(30*time.Second)), "Retry-After honoured")
	assert.Equal(t, sent, s.tenant.OAuthTokenRequests(), "no request while backing off")

	s.tenant.LimitOAuthTokens(0)
	bad := s.oauth(t, WithClientSecret("test-only-wrong-secret-value"))
	_, err = bad.Token(ctx)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_client", oe.Code)
	for _, text := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", o, o, o), fmt.Sprintf("%v", bad)} {
		for _, secret := range []string{s.secret, "test-only-wrong-secret-value", cc.Raw} {
			assert.NotContains(t, text, secret)
		}
	}
}

func TestNewOAuthRefuses(t *testing.T) {
	s := newOAuthSetup(t)
	other, err := qsjwt.NewClientAssertion(qsjwtSigner(t), s.clientID, "https://elsewhere.example", "rsa-1")
	require.NoError(t, err)
	for name, opts := range map[string][]OAuthOption{
		"no credential":         nil,
		"both":                  {WithClientSecret("x"), WithClientAssertion(s.assertion)},
		"assertion for another": {WithClientAssertion(other)},
		"bad scope":             {WithClientSecret("x"), WithScopes("a b")},
	} {
		_, err := NewOAuth(s.tenant.URL, s.clientID, opts...)
		assert.ErrorIs(t, err, ErrSession, name)
	}
	o := s.oauth(t, WithClientSecret(s.secret))
	_, err = o.ImpersonateSubject("anna").Token(context.Background())
	assert.ErrorContains(t, err, "WithScopes", "impersonation needs explicit scopes")
	assert.Zero(t, s.tenant.OAuthTokenRequests())
	_, err = NewOAuth("http://x/path", "c", WithClientSecret("x"))
	assert.True(t, errors.Is(err, ErrSession))
}

func qsjwtSigner(t *testing.T) qsjwt.Signer {
	t.Helper()
	s, err := qsjwt.SignerFromCrypto(testKey(t))
	require.NoError(t, err)
	return s
}

// TestOAuthErrorNeverCarriesTheSecret: a proxy whose error page echoes the
// request body must not put the secret into the error.
func TestOAuthErrorNeverCarriesTheSecret(t *testing.T) {
	const secret = "test-only-client-secret-0123456789"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write(body)
	}))
	defer echo.Close()
	o, err := NewOAuth(echo.URL, "client", WithClientSecret(secret))
	require.NoError(t, err)
	_, err = o.Token(context.Background())
	var oe *OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusBadGateway, oe.StatusCode)
	assert.Contains(t, oe.Detail, "[redacted]", "the body was echoed")
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, fmt.Sprintf("%+v %#v", err, oe.QlikError), secret)
}

func TestOAuthForgetsExpiredUsers(t *testing.T) {
	s := newOAuthSetup(t)
	o := s.oauth(t, WithClientSecret(s.secret), WithScopes("user_default"))
	_, err := o.Token(context.Background())
	require.NoError(t, err)
	s.clock.Advance(qliktest.OAuthTokenLifetime)
	_, _ = o.ImpersonateSubject("nobody").Token(context.Background())
	o.mu.Lock()
	defer o.mu.Unlock()
	assert.Len(t, o.users, 1, "the expired client token is forgotten when another user comes")
}
