package session

// This file gets OAuth access tokens from a Qlik Cloud tenant's POST
// /oauth/token: client credentials and user impersonation, the client
// authenticated by its secret or by a Private Key JWT assertion
// (qsjwt.ClientAssertion), cached per user.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/internal/sharedcall"
)

// OAuth grant types and the client assertion type of Qlik Cloud.
const (
	GrantClientCredentials = "client_credentials"
	GrantImpersonation     = "urn:qlik:oauth:user-impersonation"
	assertionType          = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// OAuth gets access tokens for one OAuth client of a Qlik Cloud tenant and
// caches them per user until shortly before they expire, with one request
// per user at a time: concurrent callers for the same user share it. A
// refused request is not repeated at once: callers get a [*BackoffError]
// until the back-off (at least Qlik's Retry-After) has passed. Make one with
// [NewOAuth]; it is safe for concurrent use, and never prints its secret.
//
// [OAuth.Token] is the client's own token (grant client_credentials);
// [OAuth.ImpersonateSubject] and [OAuth.ImpersonateUserID] give a
// qsjwt.TokenSource of a user's tokens (grant
// urn:qlik:oauth:user-impersonation), for which the user must exist:
// [OAuth.EnsureUser] creates it. Send a token as Authorization: Bearer.
type OAuth struct {
	common
	tenant    *url.URL
	clientID  string
	secret    string
	assertion *qsjwt.ClientAssertion
	scopes    []string

	mu    sync.Mutex
	users map[string]*oauthEntry // by lookup: "" for the client itself
}

// oauthEntry is the cached token of one user and the request under way.
type oauthEntry struct {
	tok       qsjwt.Token
	fetching  *sharedcall.Call[qsjwt.Token]
	fails     int
	notBefore time.Time
	lastErr   error
}

// OAuthOption configures [NewOAuth]; the options of every session
// (WithBaseTransport, WithClock, WithLoginTimeout) fit too.
type OAuthOption interface {
	applyOAuth(*OAuth) error
}

type oauthOption struct {
	name string
	fn   func(*OAuth) error
}

func (o oauthOption) applyOAuth(a *OAuth) error { return o.fn(a) }
func (o oauthOption) String() string            { return o.name }
func (o option) applyOAuth(a *OAuth) error      { return o.fn(&a.common) }

// WithClientSecret authenticates the client by its secret. The secret is
// sent in the body of each token request and never printed.
func WithClientSecret(secret string) OAuthOption {
	return oauthOption{"WithClientSecret([redacted])", func(a *OAuth) error {
		if strings.TrimSpace(secret) == "" {
			return fmt.Errorf("%w: WithClientSecret: the secret is empty", ErrSession)
		}
		a.secret = secret
		return nil
	}}
}

// WithClientAssertion authenticates the client with a new Private Key JWT
// assertion per request, signed by a: its client ID and audience must be
// this client's and this tenant's.
func WithClientAssertion(a *qsjwt.ClientAssertion) OAuthOption {
	return oauthOption{"WithClientAssertion", func(o *OAuth) error {
		if a == nil {
			return fmt.Errorf("%w: WithClientAssertion: the assertion builder is nil", ErrSession)
		}
		o.assertion = a
		return nil
	}}
}

// WithScopes sets the scopes each token request asks for (e.g.
// "user_default"). Impersonation needs them; without them a client
// credentials request gets the client's allowed scopes.
func WithScopes(scopes ...string) OAuthOption {
	return oauthOption{fmt.Sprintf("WithScopes(%s)", strings.Join(scopes, " ")), func(a *OAuth) error {
		for _, s := range scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
				return fmt.Errorf("%w: WithScopes: %q is not a scope", ErrSession, s)
			}
		}
		a.scopes = append([]string(nil), scopes...)
		return nil
	}}
}

// NewOAuth returns the token source of OAuth client clientID of the tenant
// at tenantURL (its https base URL, such as https://tenant.eu.qlikcloud.com),
// authenticated by exactly one of [WithClientSecret] and
// [WithClientAssertion].
func NewOAuth(tenantURL, clientID string, opts ...OAuthOption) (*OAuth, error) {
	u, err := parseBase(tenantURL, "tenant", "https://tenant.eu.qlikcloud.com", false)
	if err != nil {
		return nil, err
	}
	a := &OAuth{common: defaults(), tenant: u, clientID: clientID, users: map[string]*oauthEntry{}}
	var errs []error
	if strings.TrimSpace(clientID) == "" || strings.TrimSpace(clientID) != clientID {
		errs = append(errs, fmt.Errorf("%w: the client ID is empty or has white space around it", ErrSession))
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyOAuth(a); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case a.secret == "" && a.assertion == nil:
		errs = append(errs, fmt.Errorf("%w: give WithClientSecret or WithClientAssertion to authenticate the OAuth client", ErrSession))
	case a.secret != "" && a.assertion != nil:
		errs = append(errs, fmt.Errorf("%w: give WithClientSecret or WithClientAssertion, not both (Qlik refuses a request with two)", ErrSession))
	case a.assertion != nil:
		if want := "https://" + strings.ToLower(u.Host) + "/oauth/token"; a.assertion.Audience() != want {
			errs = append(errs, fmt.Errorf("%w: WithClientAssertion: the assertions are for %s, not this tenant's %s", ErrSession, a.assertion.Audience(), want))
		}
		if a.assertion.ClientID() != clientID {
			errs = append(errs, fmt.Errorf("%w: WithClientAssertion: the assertions are for client %q, not %q", ErrSession, a.assertion.ClientID(), clientID))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

// Format prints the client, never its secret.
func (a *OAuth) Format(f fmt.State, _ rune) {
	auth := "client secret [redacted]"
	if a.assertion != nil {
		auth = fmt.Sprintf("assertion %s", a.assertion.Algorithm())
	}
	fmt.Fprintf(f, "session.OAuth{tenant: %s, client: %q, %s, scopes: %q}", a.tenant.Host, a.clientID, auth, a.scopes)
}

// Token returns the client's own access token (grant client_credentials),
// from the cache while it is fresh. OAuth is thus a qsjwt.TokenSource.
func (a *OAuth) Token(ctx context.Context) (qsjwt.Token, error) {
	return a.token(ctx, "", "")
}

// ImpersonateSubject returns the token source of the user whose subject
// (the "sub" of their identity provider) is subject: grant
// urn:qlik:oauth:user-impersonation with user_lookup {"field":"subject"}.
func (a *OAuth) ImpersonateSubject(subject string) qsjwt.TokenSource {
	return qsjwt.TokenSourceFunc(func(ctx context.Context) (qsjwt.Token, error) { return a.token(ctx, "subject", subject) })
}

// ImpersonateUserID is [OAuth.ImpersonateSubject] for a user given by Qlik's
// user ID (user_lookup {"field":"userId"}).
func (a *OAuth) ImpersonateUserID(userID string) qsjwt.TokenSource {
	return qsjwt.TokenSourceFunc(func(ctx context.Context) (qsjwt.Token, error) { return a.token(ctx, "userId", userID) })
}

// token returns the cached token for the lookup, or requests one, sharing a
// request under way.
func (a *OAuth) token(ctx context.Context, field, value string) (qsjwt.Token, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if field != "" && (value == "" || len(a.scopes) == 0) {
		if value == "" {
			return qsjwt.Token{}, fmt.Errorf("%w: impersonation needs the user's %s", ErrSession, field)
		}
		return qsjwt.Token{}, fmt.Errorf("%w: impersonation needs explicit scopes: give WithScopes(\"user_default\")", ErrSession)
	}
	key := field + ":" + value
	a.mu.Lock()
	now := a.now()
	e := a.users[key]
	if e == nil {
		a.pruneLocked(now)
		e = &oauthEntry{}
		a.users[key] = e
	}
	switch {
	case e.tok.Raw != "" && now.Before(refreshAt(e.tok)):
		tok := e.tok
		a.mu.Unlock()
		return tok, nil
	case e.fetching == nil && now.Before(e.notBefore):
		err := &BackoffError{Until: e.notBefore, Err: e.lastErr}
		a.mu.Unlock()
		return qsjwt.Token{}, err
	}
	c := e.fetching
	if c == nil {
		c = sharedcall.New[qsjwt.Token]()
		e.fetching = c
		go c.Run(func() (tok qsjwt.Token, err error) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.loginTimeout)
			defer cancel()
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("%w: panic while getting an access token: %v", ErrSession, p)
				}
			}()
			return a.request(ctx, field, value)
		}, func(tok qsjwt.Token, err error) { a.fetched(e, tok, err) })
	}
	a.mu.Unlock()
	return c.WaitDetached(ctx)
}

// pruneLocked forgets the users whose token has expired, with no request
// under way and no back-off running, so that a backend serving many users
// keeps only the live ones. Called with a.mu held, when a user is added.
func (a *OAuth) pruneLocked(now time.Time) {
	for k, e := range a.users {
		if e.fetching == nil && !now.Before(e.tok.ExpiresAt) && !now.Before(e.notBefore) {
			delete(a.users, k)
		}
	}
}

// refreshAt is when a cached token is renewed: a minute before it expires,
// or halfway through a lifetime under two minutes.
func refreshAt(t qsjwt.Token) time.Time {
	margin := time.Minute
	if life := t.ExpiresAt.Sub(t.IssuedAt); life < 2*margin {
		margin = life / 2
	}
	return t.ExpiresAt.Add(-margin)
}

// fetched records the outcome of a token request.
func (a *OAuth) fetched(e *oauthEntry, tok qsjwt.Token, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.fetching = nil
	switch {
	case err == nil:
		e.tok, e.fails, e.notBefore, e.lastErr = tok, 0, time.Time{}, nil
	case errors.As(err, new(notSent)):
	default:
		e.fails++
		e.notBefore, e.lastErr = a.now().Add(backoff(err, e.fails)), err
	}
}

// request sends one token request.
func (a *OAuth) request(ctx context.Context, field, value string) (qsjwt.Token, error) {
	body := map[string]any{"client_id": a.clientID, "grant_type": GrantClientCredentials}
	if len(a.scopes) > 0 {
		body["scope"] = strings.Join(a.scopes, " ")
	}
	if field != "" {
		body["grant_type"] = GrantImpersonation
		body["user_lookup"] = map[string]string{"field": field, "value": value}
	}
	if a.assertion != nil {
		asn, err := a.assertion.Sign(ctx)
		if err != nil {
			return qsjwt.Token{}, notSent{fmt.Errorf("%w: signing the client assertion: %w", ErrSession, err)}
		}
		body["client_assertion"], body["client_assertion_type"] = asn.Raw, assertionType
	} else {
		body["client_secret"] = a.secret
	}
	js, err := json.Marshal(body)
	if err != nil {
		return qsjwt.Token{}, notSent{fmt.Errorf("%w: %w", ErrSession, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tenant.JoinPath("/oauth/token").String(), bytes.NewReader(js))
	if err != nil {
		return qsjwt.Token{}, notSent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	sent := a.now()
	resp, err := a.transport().RoundTrip(req)
	if err != nil {
		return qsjwt.Token{}, fmt.Errorf("%w: POST %s: %w", ErrSession, req.URL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode/100 != 2 {
		oe := oauthError(body["grant_type"].(string), resp, data)
		// Qlik does not echo the credentials, but a proxy's error page
		// might: an error must never carry them.
		for _, secret := range []string{a.secret, fmt.Sprint(body["client_assertion"])} {
			if len(secret) >= 8 {
				for _, f := range []*string{&oe.Description, &oe.QlikError.Detail, &oe.QlikError.Title} {
					*f = strings.ReplaceAll(*f, secret, "[redacted]")
				}
			}
		}
		return qsjwt.Token{}, oe
	}
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.AccessToken == "" || out.ExpiresIn <= 0 {
		return qsjwt.Token{}, fmt.Errorf("%w: POST %s answered %d without access_token and expires_in", ErrSession, req.URL, resp.StatusCode)
	}
	if !strings.EqualFold(out.TokenType, "Bearer") {
		return qsjwt.Token{}, fmt.Errorf("%w: POST %s gave token_type %q, not Bearer", ErrSession, req.URL, out.TokenType)
	}
	exp := sent.Add(time.Duration(min(out.ExpiresIn, int64(365*24*3600))) * time.Second)
	return qsjwt.Token{Raw: out.AccessToken, IssuedAt: sent, ExpiresAt: exp}, nil
}

// OAuthError is Qlik's refusal of a token request: the OAuth error (RFC
// 6749 §5.2) and, through the embedded [*QlikError], the HTTP status,
// Qlik's errors array and Retry-After. errors.Is(err, ErrQlik) holds. It
// never holds the client secret, the assertion or a token.
type OAuthError struct {
	// Grant is the grant type asked for.
	Grant string
	// Code and Description are the answer's "error" (e.g. invalid_client)
	// and "error_description", empty when Qlik sent only its errors array.
	Code, Description string
	*QlikError
}

func (e *OAuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "session: Qlik refused the OAuth token request (%s): %d", e.Grant, e.StatusCode)
	for _, s := range []string{e.Code, e.Description} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	if e.QlikError.Code != "" && e.QlikError.Code != e.Code {
		fmt.Fprintf(&b, " (%s %s)", e.QlikError.Code, e.QlikError.Detail)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the *QlikError.
func (e *OAuthError) Unwrap() error { return e.QlikError }

func oauthError(grant string, resp *http.Response, body []byte) *OAuthError {
	e := &OAuthError{Grant: grant, QlikError: qlikError("oauth-token", resp, body)}
	var o struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &o) == nil {
		e.Code, e.Description = o.Error, o.Description
	}
	return e
}
