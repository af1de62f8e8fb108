package qliktest

// This file emulates what a browser page needs to call Qlik Cloud with OAuth
// access tokens, as qlik-embed and @qlik/api do with authType "oauth2" (an
// impersonation token from the page's own backend, given by the
// getAccessToken callback): CORS for the origins an OAuth client allows
// (O-CORS-1), and the engine WebSocket, which a browser cannot send an
// Authorization header to, opened with a temporary token from a token
// exchange in the query (O-WS-1). No cookie is involved, so it works where
// third-party cookies are blocked.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OAuth values of a browser page's calls.
const (
	// GrantTokenExchange is the grant @qlik/api uses in a browser to turn
	// an access token into a temporary one for the engine WebSocket.
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// TemporaryTokenLifetime is how long such a temporary token may be
	// used; it is used once.
	TemporaryTokenLifetime = time.Minute
	accessTokenType        = "urn:ietf:params:oauth:token-type:access_token"
)

// oauthOrigin reports whether an OAuth client of the tenant allows origin.
func (c *Cloud) oauthOrigin(origin string) bool {
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	return slices.ContainsFunc(c.oauth.clients, func(cl *oauthClient) bool { return slices.Contains(cl.AllowedOrigins, origin) })
}

// oauthCORS serves the CORS of a cross-origin request from a page that an
// OAuth client allows: a preflight (answered here: handled), a call with an
// access token, a token request, or an engine WebSocket with a temporary
// token (passed: the caller goes on without a web integration ID). Other
// requests from the origin are neither, and need the web integration.
func (c *Cloud) oauthCORS(w http.ResponseWriter, r *http.Request, origin string) (handled, passed bool) {
	if !c.oauthOrigin(origin) {
		return false, false
	}
	_, hasBearer := bearer(r)
	tokenCall := hasBearer || r.URL.Path == "/oauth/token" ||
		strings.HasPrefix(r.URL.Path, "/app/") && r.URL.Query().Get("accessToken") != ""
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !tokenCall && !preflight {
		return false, false
	}
	return cors(w, r, origin), true
}

// exchange answers a token exchange: the access token in subject_token,
// issued to client_id, for a temporary token of purpose "websocket" or
// "webresource".
func (c *Cloud) exchange(w http.ResponseWriter, req tokenRequest, now time.Time) {
	switch {
	case req.SubjectTokenType != accessTokenType:
		oauthError(w, http.StatusBadRequest, "invalid_request", "subject_token_type must be "+accessTokenType)
		return
	case req.Purpose != "websocket" && req.Purpose != "webresource":
		oauthError(w, http.StatusBadRequest, "invalid_request", `purpose must be "websocket" or "webresource"`)
		return
	}
	o := &c.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	a := o.tokens[req.SubjectToken]
	switch {
	case a == nil || a.purpose != "" || !now.Before(a.exp):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "subject_token is not a live access token of this tenant")
		return
	case req.ClientID != a.clientID:
		oauthError(w, http.StatusBadRequest, "invalid_client", fmt.Sprintf("client_id %q is not the client the access token was issued to", req.ClientID))
		return
	}
	tok := randomID(32)
	exp := now.Add(TemporaryTokenLifetime)
	o.tokens[tok] = &oauthAccess{user: a.user, clientID: a.clientID, scopes: a.scopes, exp: exp, purpose: req.Purpose}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"issued_token_type": accessTokenType, "expires_in": int(TemporaryTokenLifetime / time.Second)})
}

// webSocketTokenSession returns a session for an engine WebSocket upgrade
// that carries a live temporary token of purpose "websocket" as
// ?accessToken=, and uses the token up; else nil.
func (c *Cloud) webSocketTokenSession(r *http.Request) *cloudSession {
	tok := r.URL.Query().Get("accessToken")
	if tok == "" || !strings.HasPrefix(r.URL.Path, "/app/") {
		return nil
	}
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	a := c.oauth.tokens[tok]
	if a == nil || a.purpose != "websocket" {
		return nil
	}
	delete(c.oauth.tokens, tok)
	if !c.now().Before(a.exp) {
		return nil
	}
	return &cloudSession{user: a.user, bearer: true, lastUsed: c.now()}
}
