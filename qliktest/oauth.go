package qliktest

// This file emulates Qlik Cloud's OAuth token endpoint, POST /oauth/token,
// for clients made through /api/v1/oauth-clients (oauth_admin.go): client
// credentials and user impersonation, the client authenticated by its
// secret or by a Private Key JWT assertion, as the O-* rows of
// docs/qlik-rules.md say. Access tokens it issues are accepted as
// Authorization: Bearer by the tenant's other APIs and the engine WebSocket.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OAuth values of Qlik Cloud.
const (
	// GrantClientCredentials and GrantImpersonation are the grant types an
	// OAuth client of appType "web" may be allowed.
	GrantClientCredentials = "client_credentials"
	GrantImpersonation     = "urn:qlik:oauth:user-impersonation"
	// AssertionType is the client_assertion_type of a Private Key JWT.
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// OAuthTokenLifetime is the expires_in of the access tokens issued.
	OAuthTokenLifetime = 6 * time.Hour
	// maxAssertionLifetime is the most exp - iat of an assertion may be.
	maxAssertionLifetime = 5 * time.Minute
)

// oauthState is the tenant's OAuth clients and the tokens it issued.
type oauthState struct {
	mu        sync.Mutex
	clients   []*oauthClient
	tokens    map[string]*oauthAccess // access token → what it grants
	jtis      map[string]time.Time    // assertion jti → exp
	limit     int                     // token requests per minute, 0 for none
	recent    []time.Time
	requests  int
	issued    int
	issuedFor map[string]int // by user subject
}

// oauthAccess is what an access token grants.
type oauthAccess struct {
	user     *cloudUser
	clientID string
	scopes   []string
	exp      time.Time
	purpose  string // a temporary token of a token exchange (oauth_browser.go)
}

// OAuthTokenRequests returns the number of POST /oauth/token requests,
// refused ones included, and OAuthTokensIssued the number of access tokens
// issued, in all or, with subjects given, to those users only (a client
// credentials token's user is "oauth-client/<clientId>").
func (c *Cloud) OAuthTokenRequests() int {
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	return c.oauth.requests
}

// OAuthTokensIssued: see [Cloud.OAuthTokenRequests].
func (c *Cloud) OAuthTokensIssued(subjects ...string) int {
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	if len(subjects) == 0 {
		return c.oauth.issued
	}
	n := 0
	for _, s := range subjects {
		n += c.oauth.issuedFor[s]
	}
	return n
}

// LimitOAuthTokens makes POST /oauth/token answer 429 with Retry-After
// once more than perMinute requests came in the last minute; 0 removes the
// limit (the default: Qlik documents none for the token endpoint).
func (c *Cloud) LimitOAuthTokens(perMinute int) {
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	c.oauth.limit = perMinute
}

// serveOAuth serves /oauth/token, and with the admin API on,
// /api/v1/oauth-clients and /api/v1/users; it reports whether it answered.
func (c *Cloud) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch p := r.URL.Path; {
	case p == "/oauth/token":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use POST")
			return true
		}
		c.token(w, r)
	case c.admin != nil && (p == "/api/v1/oauth-clients" || strings.HasPrefix(p, "/api/v1/oauth-clients/")):
		c.oauthClients(w, r)
	case p == "/api/v1/users":
		c.usersAPI(w, r)
	default:
		return false
	}
	return true
}

// oauthSession returns a session for a request that carries an access
// token this tenant issued and that has not expired, or nil. Such a request
// needs no cookie and no CSRF token (O-USE-1).
func (c *Cloud) oauthSession(r *http.Request) *cloudSession {
	tok, ok := bearer(r)
	if !ok {
		return c.webSocketTokenSession(r)
	}
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	a := c.oauth.tokens[tok]
	if a == nil || a.purpose != "" {
		return nil
	}
	if !c.now().Before(a.exp) {
		delete(c.oauth.tokens, tok)
		return nil
	}
	return &cloudSession{user: a.user, bearer: true, lastUsed: c.now()}
}

// oauthError writes an OAuth error (RFC 6749 §5.2) with Qlik's errors array.
func oauthError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": code, "error_description": detail,
		"errors": []apiError{{Code: code, Title: http.StatusText(status), Detail: detail, Status: strconv.Itoa(status)}},
	})
}

// tokenRequest is the body of POST /oauth/token, JSON (as @qlik/api sends
// it) or form-encoded (as RFC 6749 does).
type tokenRequest struct {
	GrantType           string `json:"grant_type"`
	ClientID            string `json:"client_id"`
	ClientSecret        string `json:"client_secret"`
	ClientAssertion     string `json:"client_assertion"`
	ClientAssertionType string `json:"client_assertion_type"`
	Scope               string `json:"scope"`
	SubjectToken        string `json:"subject_token"`      // token exchange (oauth_browser.go)
	SubjectTokenType    string `json:"subject_token_type"` //
	Purpose             string `json:"purpose"`            //
	UserLookup          *struct {
		Field string `json:"field"`
		Value string `json:"value"`
	} `json:"user_lookup"`
}

func readTokenRequest(r *http.Request) (tokenRequest, bool) {
	var req tokenRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		return req, json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&req) == nil
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		if r.ParseForm() != nil {
			return req, false
		}
		f := r.PostForm
		req = tokenRequest{GrantType: f.Get("grant_type"), ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret"),
			ClientAssertion: f.Get("client_assertion"), ClientAssertionType: f.Get("client_assertion_type"), Scope: f.Get("scope")}
		return req, true
	}
	return req, false
}

// token is POST /oauth/token.
func (c *Cloud) token(w http.ResponseWriter, r *http.Request) {
	now := c.now()
	o := &c.oauth
	o.mu.Lock()
	o.requests++
	cut := 0
	for cut < len(o.recent) && now.Sub(o.recent[cut]) >= time.Minute {
		cut++
	}
	o.recent = append(o.recent[cut:], now)
	limited := o.limit > 0 && len(o.recent) > o.limit
	o.mu.Unlock()
	if limited {
		w.Header().Set("Retry-After", "30")
		oauthError(w, http.StatusTooManyRequests, "rate_limited", "too many token requests; cache access tokens until they expire")
		return
	}
	req, ok := readTokenRequest(r)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be JSON (Content-Type: application/json) or form-encoded")
		return
	}
	if req.GrantType == GrantTokenExchange {
		c.exchange(w, req, now)
		return
	}
	cl, status, code, why := c.authenticate(req, now)
	if cl == nil {
		oauthError(w, status, code, why)
		return
	}
	if !slices.Contains(cl.AllowedGrantTypes, req.GrantType) {
		if req.GrantType != GrantClientCredentials && req.GrantType != GrantImpersonation {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported here", req.GrantType))
			return
		}
		oauthError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("the OAuth client is not allowed grant_type %q (allowedGrantTypes)", req.GrantType))
		return
	}
	scopes := strings.Fields(req.Scope)
	for _, s := range scopes {
		if !slices.Contains(cl.AllowedScopes, s) {
			oauthError(w, http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q is not among the OAuth client's allowedScopes", s))
			return
		}
	}
	user := cl.bot
	if req.GrantType == GrantImpersonation {
		if len(scopes) == 0 {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "an impersonation request names its scopes (e.g. user_default)")
			return
		}
		if user, why = c.lookupUser(req); user == nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", why)
			return
		}
	} else if len(scopes) == 0 {
		scopes = cl.AllowedScopes
	}
	tok := randomID(32)
	exp := now.Add(OAuthTokenLifetime)
	o.mu.Lock()
	if o.tokens == nil {
		o.tokens, o.issuedFor = map[string]*oauthAccess{}, map[string]int{}
	}
	o.tokens[tok] = &oauthAccess{user: user, clientID: cl.ClientID, scopes: scopes, exp: exp}
	o.issued++
	o.issuedFor[user.Subject]++
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(OAuthTokenLifetime / time.Second), "expires_at": exp.UTC().Format(time.RFC3339),
		"scope": strings.Join(scopes, " ")})
}

// lookupUser finds the user of an impersonation request.
func (c *Cloud) lookupUser(req tokenRequest) (*cloudUser, string) {
	l := req.UserLookup
	if l == nil || l.Value == "" || l.Field != "subject" && l.Field != "userId" {
		return nil, `impersonation needs user_lookup {"field":"subject" or "userId","value":…}`
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.users {
		if l.Field == "subject" && u.Subject == l.Value || l.Field == "userId" && u.ID == l.Value {
			return u, ""
		}
	}
	return nil, fmt.Sprintf("no user with %s %q: impersonation needs an existing user (create it with POST /api/v1/users)", l.Field, l.Value)
}

// authenticate finds the client and checks its secret or assertion.
func (c *Cloud) authenticate(req tokenRequest, now time.Time) (cl *oauthClient, status int, code, why string) {
	bad := func(format string, args ...any) (*oauthClient, int, string, string) {
		return nil, http.StatusUnauthorized, "invalid_client", fmt.Sprintf(format, args...)
	}
	switch {
	case req.ClientSecret != "" && req.ClientAssertion != "":
		return nil, http.StatusBadRequest, "invalid_request", "give client_secret or client_assertion, not both"
	case req.ClientSecret == "" && req.ClientAssertion == "":
		return bad("the client is not authenticated: give client_secret, or client_assertion with client_assertion_type %s", AssertionType)
	case req.ClientAssertion != "" && req.ClientAssertionType != AssertionType:
		return nil, http.StatusBadRequest, "invalid_request", fmt.Sprintf("client_assertion_type must be %s", AssertionType)
	}
	id := req.ClientID
	if req.ClientAssertion != "" && id == "" {
		id = assertionIssuer(req.ClientAssertion)
	}
	o := &c.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	i := slices.IndexFunc(o.clients, func(cl *oauthClient) bool { return cl.ClientID == id })
	if i < 0 {
		return bad("no OAuth client %q", id)
	}
	cl = o.clients[i]
	if req.ClientSecret != "" {
		if !slices.Contains(cl.AllowedAuthMethods, "client_secret") {
			return bad("the OAuth client does not allow client_secret (allowedAuthMethods)")
		}
		if subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(cl.secret)) != 1 {
			return bad("the client secret is wrong")
		}
		return cl, 0, "", ""
	}
	if !slices.Contains(cl.AllowedAuthMethods, "private_key_jwt") {
		return bad("the OAuth client does not allow private_key_jwt (allowedAuthMethods)")
	}
	aud := "https://" + strings.ToLower(strings.TrimPrefix(c.URL, "https://")) + "/oauth/token"
	jti, exp, why := checkAssertion(req.ClientAssertion, cl, aud, now, c.cfg.ClockTolerance)
	if why != "" {
		return bad("client_assertion: %s", why)
	}
	for k, e := range o.jtis {
		if now.After(e.Add(c.cfg.ClockTolerance)) {
			delete(o.jtis, k)
		}
	}
	if _, seen := o.jtis[jti]; seen {
		return bad("client_assertion: jti %q was used before; sign a new assertion per request", jti)
	}
	if o.jtis == nil {
		o.jtis = map[string]time.Time{}
	}
	o.jtis[jti] = exp
	return cl, 0, "", ""
}

// assertionIssuer reads iss from an assertion without checking it, to find
// the client when client_id is not given.
func assertionIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	js, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct{ Iss string }
	if err != nil || json.Unmarshal(js, &claims) != nil {
		return ""
	}
	return claims.Iss
}

// checkAssertion checks a client assertion against the client's registered
// keys and Qlik's rules, and returns its jti and exp, or why it is refused.
func checkAssertion(raw string, cl *oauthClient, aud string, now time.Time, tolerance time.Duration) (jti string, exp time.Time, why string) {
	if len(raw) > maxTokenSize {
		return "", exp, "the assertion is too large"
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return !isBase64URL(r) && r != '.' }); i >= 0 {
		return "", exp, fmt.Sprintf("a character outside the base64url alphabet at byte %d", i)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", exp, "not a compact JWS (header.payload.signature)"
	}
	var t jwt
	for i, dst := range []*map[string]json.RawMessage{&t.header, &t.claims} {
		js, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		if err != nil {
			return "", exp, "a part is not base64url without padding"
		}
		m, dup, err := parseObject(js)
		if err != nil || dup != "" {
			return "", exp, "the header or payload is not a JSON object with each name once"
		}
		*dst = m
	}
	for _, ext := range []string{"crit", "b64"} {
		if _, ok := t.header[ext]; ok {
			return "", exp, "the header asks for a JWS extension (" + ext + ")"
		}
	}
	kid, _ := t.string("header", "kid")
	key, ok := cl.keys[kid]
	if !ok {
		return "", exp, fmt.Sprintf("kid %q is not the kid of a public key registered with the OAuth client", kid)
	}
	if alg, _ := t.string("header", "alg"); alg != key.alg {
		return "", exp, fmt.Sprintf("alg %q does not match the registered key's alg %s", alg, key.alg)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || !verifySignature(key, []byte(parts[0]+"."+parts[1]), sig) {
		return "", exp, "the signature does not verify with the registered key"
	}
	for _, n := range []string{"iss", "sub"} {
		if v, _ := t.string("claims", n); v != cl.ClientID {
			return "", exp, fmt.Sprintf("%s must be the client ID", n)
		}
	}
	if v, ok := t.string("claims", "aud"); !ok || v != aud {
		return "", exp, fmt.Sprintf("aud must be the string %q", aud)
	}
	if jti, _ = t.string("claims", "jti"); jti == "" {
		return "", exp, "jti is missing or not a non-empty string"
	}
	iat, p := t.requireDate("iat")
	if p == nil {
		exp, p = t.requireDate("exp")
	}
	if p != nil {
		return "", exp, p.detail
	}
	if d := exp.Sub(iat); d <= 0 || d > maxAssertionLifetime {
		return "", exp, fmt.Sprintf("exp - iat is %d s; it must be 1 to %d", int64(d/time.Second), int64(maxAssertionLifetime/time.Second))
	}
	nbf, hasNbf, p := t.date("nbf")
	if p != nil {
		return "", exp, p.detail
	}
	if p := timeWindow(now, exp, nbf, true, hasNbf, tolerance); p != nil {
		return "", exp, p.detail
	}
	return jti, exp, ""
}

// verifySignature checks an RS256, RS512 or ES384 signature over input.
func verifySignature(key oauthKey, input, sig []byte) bool {
	switch k := key.pub.(type) {
	case *rsa.PublicKey:
		h := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS512": crypto.SHA512}[key.alg]
		if h == 0 {
			return false
		}
		d := h.New()
		d.Write(input)
		return rsa.VerifyPKCS1v15(k, h, d.Sum(nil), sig) == nil
	case *ecdsa.PublicKey:
		if len(sig) != 96 {
			return false
		}
		d := sha512.Sum384(input)
		return ecdsa.Verify(k, d[:], new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:]))
	}
	return false
}
