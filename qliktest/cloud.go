package qliktest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults of an emulated Qlik Cloud tenant.
const (
	DefaultIssuer           = "qliktest.example"
	DefaultKeyID            = "qliktest-key"
	DefaultWebIntegrationID = "qliktest-web-integration"
	// CloudAudience is the only "aud" the tenant accepts.
	CloudAudience = "qlik.api/login/jwt-session"
)

// Qlik Cloud's limits, as docs/qlik-rules.md gives them.
const (
	DefaultClockTolerance  = 5 * time.Second
	DefaultLoginsPerMinute = 100
	DefaultSessionTimeout  = 30 * time.Minute
	maxCloudLifetime       = time.Hour
)

// Cookies the emulated tenant sets at login. Real tenants set cookies of
// their own choosing; clients must keep them all, as the tenant needs every
// one of them back.
const (
	CloudSessionCookie    = "eas.sid"
	CloudSessionSigCookie = "eas.sid.sig"
	cloudCSRFCookie       = "_csrfToken"
)

// CloudConfig configures [NewCloud]. The zero value is a tenant with a
// generated key, issuer [DefaultIssuer], key ID [DefaultKeyID], TLS and the
// wall clock.
type CloudConfig struct {
	// Issuer and KeyID are the identity provider's "iss" and "kid".
	Issuer, KeyID string
	// Certificate is the identity provider's certificate. Nil: a key is made
	// (one per process) and Cloud.Key holds it for signing tokens.
	Certificate *x509.Certificate
	// ClockTolerance is the identity provider's clockToleranceSec: 0 means
	// 5 s, a negative value none; over two hours (7200 s, Qlik's upper
	// limit) NewCloud panics.
	ClockTolerance time.Duration
	// SessionTimeout is how long an unused session lives; 0 means 30 minutes.
	SessionTimeout time.Duration
	// LoginsPerMinute is the tenant's login rate limit; 0 means 100.
	LoginsPerMinute int
	// WebIntegrationID is the ID that browser (cross-origin) calls must send
	// in the qlik-web-integration-id header; "" means
	// [DefaultWebIntegrationID]. AllowedOrigins are the origins it allows.
	WebIntegrationID string
	AllowedOrigins   []string
	// Now is the tenant's clock; nil means time.Now.
	Now func() time.Time
	// PlainHTTP serves http:// instead of https://.
	PlainHTTP bool
	// APIKey turns the admin API on (see admin_cloud.go); logins then use
	// only the identity providers created through it.
	APIKey string
}

// Cloud is an emulated Qlik Cloud tenant with one JWT identity provider,
// listening on loopback. It serves:
//
//   - POST /login/jwt-session: exchanges a token for a session (cookies
//     eas.sid, eas.sid.sig and _csrfToken), refusing tokens as the rows
//     C-* of docs/qlik-rules.md say Qlik does: wrong alg, kid, signature,
//     issuer or audience; a missing claim; aud as an array; email_verified
//     missing, null or a string; a date that is not a whole number; exp -
//     nbf or exp - iat over one hour; nbf not before exp; an expired or not
//     yet valid token (with the clock tolerance); a reused jti; more than
//     LoginsPerMinute attempts in a minute (429).
//   - GET /api/v1/csrf-token: the session's CSRF token in the response header
//     qlik-csrf-token.
//   - GET /api/v1/users/me: the session's user.
//   - POST /api/v1/spaces: a call that needs the qlik-csrf-token header, as
//     every non-GET call does (403 CSRF-TOKEN-2 when it is stale).
//   - GET /app/<appId>: the engine WebSocket, which needs the session
//     cookies and ?qlik-csrf-token= or the qlik-csrf-token header (from a
//     browser page of an allowed origin also ?qlik-web-integration-id=);
//     its engine sends OnConnected
//     and answers the JSON-RPC that opens and reads [SampleAppID], as on
//     QSEoW.
//   - POST /oauth/token, /api/v1/oauth-clients and /api/v1/users (oauth.go):
//     OAuth access tokens, which every call above takes as
//     Authorization: Bearer, without cookies or CSRF token; from pages of
//     a client's allowed origins too (oauth_browser.go: CORS, ?accessToken=).
//
// Any /api/ call without a live session gets 401. Its methods are safe for
// concurrent use.
type Cloud struct {
	// URL is the tenant's base URL, e.g. https://127.0.0.1:54321.
	URL string
	// Issuer, KeyID and Certificate are the identity provider's settings.
	Issuer, KeyID string
	Certificate   *x509.Certificate
	// Key signs tokens the tenant accepts; nil when CloudConfig.Certificate
	// was given.
	Key *rsa.PrivateKey
	// WebIntegrationID is what browser calls must send.
	WebIntegrationID string

	server
	cfg    CloudConfig
	secret []byte
	admin  *cloudAdmin // nil unless CloudConfig.APIKey
	oauth  oauthState  // OAuth clients and access tokens (oauth.go)

	mu          sync.Mutex
	sessions    map[string]*cloudSession // by eas.sid
	users       map[string]*cloudUser    // by subject
	jtis        map[string]time.Time     // seen jti → exp, kept until exp passes
	attempts    []time.Time              // login attempts in the last minute
	logins      map[string]int           // successful logins by subject
	loginTotal  int
	attemptsAll int
	csrfFetches int
}

type cloudSession struct {
	user     *cloudUser
	csrf     string
	lastUsed time.Time
	bearer   bool // an OAuth access token (oauth.go): no cookie, no CSRF token
}

type cloudUser struct {
	ID            string   `json:"id"`
	TenantID      string   `json:"tenantId"`
	Subject       string   `json:"subject"`
	Name          string   `json:"name"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"emailVerified"`
	Status        string   `json:"status"`
	Groups        []string `json:"groups,omitempty"`
}

// NewCloud starts an emulated tenant. It panics, as httptest.NewServer
// does, when the configuration is one Qlik refuses (cfg.Certificate does not
// hold an RSA key of at least 2048 bits, cfg.ClockTolerance is over two
// hours) or the server cannot listen. Close it when done.
func NewCloud(cfg CloudConfig) *Cloud {
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.KeyID == "" {
		cfg.KeyID = DefaultKeyID
	}
	cfg.ClockTolerance = clockTolerance(cfg.ClockTolerance)
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.LoginsPerMinute <= 0 {
		cfg.LoginsPerMinute = DefaultLoginsPerMinute
	}
	if cfg.WebIntegrationID == "" {
		cfg.WebIntegrationID = DefaultWebIntegrationID
	}
	c := &Cloud{
		Issuer: cfg.Issuer, KeyID: cfg.KeyID, WebIntegrationID: cfg.WebIntegrationID,
		cfg: cfg, secret: []byte(randomID(32)),
		sessions: map[string]*cloudSession{}, users: map[string]*cloudUser{},
		jtis: map[string]time.Time{}, logins: map[string]int{},
	}
	if err := c.setup(cfg.Now, cfg.Certificate, "qliktest Qlik Cloud identity provider"); err != nil {
		panic(err)
	}
	c.Certificate, c.Key = c.cert, c.key
	if cfg.APIKey != "" {
		c.admin = &cloudAdmin{apiKey: cfg.APIKey}
	}
	c.start(http.HandlerFunc(c.serveHTTP), cfg.PlainHTTP)
	c.URL = c.srv.URL
	return c
}

// ServerCertificatePEM returns the tenant's TLS certificate in PEM (nil with
// PlainHTTP), for programs that take a file of certificates to trust.
func (c *Cloud) ServerCertificatePEM() []byte { return c.serverCertificatePEM() }

// Close shuts the server down.
func (c *Cloud) Close() { c.close() }

// Client returns an HTTP client that trusts the tenant's TLS certificate. Its
// Transport is a good Base for qsjwt's sessions.
func (c *Cloud) Client() *http.Client { return c.srv.Client() }

// CertificatePEM returns the identity provider's certificate in PEM.
func (c *Cloud) CertificatePEM() []byte { return certificatePEM(c.Certificate) }

// KeyPEM returns Key as PKCS #8 PEM (nil when there is no Key), for programs
// that load keys from files or environment variables. It is a test key.
func (c *Cloud) KeyPEM() []byte { return keyPEM(c.Key) }

// Logins returns the number of successful logins, in all or, with subjects
// given, for those subjects only.
func (c *Cloud) Logins(subjects ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(subjects) == 0 {
		return c.loginTotal
	}
	n := 0
	for _, s := range subjects {
		n += c.logins[s]
	}
	return n
}

// LoginAttempts returns the number of POST /login/jwt-session requests,
// refused ones included.
func (c *Cloud) LoginAttempts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attemptsAll
}

// CSRFTokenFetches returns the number of GET /api/v1/csrf-token requests
// answered with a token.
func (c *Cloud) CSRFTokenFetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.csrfFetches
}

// ActiveSessions returns the number of sessions that have not timed out.
func (c *Cloud) ActiveSessions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	return len(c.sessions)
}

// ExpireSessions ends every session, as a tenant's session timeout or a
// logout would: the next call with their cookies gets 401.
func (c *Cloud) ExpireSessions() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.sessions)
}

// RotateCSRFTokens gives every session a new CSRF token: a call that sends
// the old one gets 403 CSRF-TOKEN-2.
func (c *Cloud) RotateCSRFTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sessions {
		s.csrf = randomID(24)
	}
}

func (c *Cloud) expireLocked() {
	now := c.now()
	for id, s := range c.sessions {
		if now.Sub(s.lastUsed) >= c.cfg.SessionTimeout {
			delete(c.sessions, id)
		}
	}
}

func (c *Cloud) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(r, origin) {
		// A page calling with OAuth tokens (oauth_browser.go), else one of
		// the web integration.
		if handled, passed := c.oauthCORS(w, r, origin); handled || !passed && !c.webIntegrationCORS(w, r, origin) {
			return
		}
	}
	if c.serveOAuth(w, r) {
		return
	}
	path := r.URL.Path
	switch {
	case path == "/login/jwt-session":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use POST")
			return
		}
		c.login(w, r)
	case c.admin != nil && c.admin.serves(path):
		c.serveAdmin(w, r)
	case strings.HasPrefix(path, "/api/"):
		c.api(w, r)
	case strings.HasPrefix(path, "/app/") && len(path) > len("/app/"):
		s := c.session(w, r)
		if s == nil {
			return
		}
		c.mu.Lock()
		csrf, user := s.csrf, s.user.ID
		c.mu.Unlock()
		tok := r.URL.Query().Get("qlik-csrf-token")
		if tok == "" {
			tok = r.Header.Get("qlik-csrf-token") // as @qlik/api's cookie auth sends it from Node
		}
		if !s.bearer && tok != csrf {
			writeError(w, http.StatusForbidden, "CSRF-TOKEN-2", "Forbidden", "the engine WebSocket needs ?qlik-csrf-token= with the session's current CSRF token")
			return
		}
		serveEngine(c.stop, w, r, strings.TrimPrefix(path, "/app/"), engineUser{authenticated: user})
	default:
		writeError(w, http.StatusNotFound, "HTTP-404", "Not Found", path)
	}
}

// webIntegrationCORS checks a cross-origin request against the web
// integration and sets its CORS headers. It reports whether the request
// goes on; if not, it was answered (a refusal or a preflight).
func (c *Cloud) webIntegrationCORS(w http.ResponseWriter, r *http.Request, origin string) bool {
	if !contains(c.cfg.AllowedOrigins, origin) {
		writeError(w, http.StatusForbidden, "CORS-1", "Forbidden", fmt.Sprintf("origin %s is not allowed by a web integration", origin))
		return false
	}
	if cors(w, r, origin) {
		return false
	}
	id := r.Header.Get("qlik-web-integration-id")
	if id == "" && strings.HasPrefix(r.URL.Path, "/app/") {
		// A browser cannot set headers on a WebSocket: the engine's
		// upgrade takes the ID as a query parameter (S-WS-3).
		id = r.URL.Query().Get("qlik-web-integration-id")
	}
	if id != c.cfg.WebIntegrationID {
		writeError(w, http.StatusForbidden, "CORS-2", "Forbidden", "cross-origin calls need the header qlik-web-integration-id (the engine WebSocket: the query parameter) with the tenant's web integration ID")
		return false
	}
	return true
}

// login is POST /login/jwt-session.
func (c *Cloud) login(w http.ResponseWriter, r *http.Request) {
	now := c.now()
	c.mu.Lock()
	c.attemptsAll++
	cut := 0
	for cut < len(c.attempts) && now.Sub(c.attempts[cut]) >= time.Minute {
		cut++
	}
	c.attempts = append(c.attempts[cut:], now)
	limited := len(c.attempts) > c.cfg.LoginsPerMinute
	c.mu.Unlock()
	if limited {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, "LOGIN-RATE-1", "Too Many Requests",
			fmt.Sprintf("more than %d logins in a minute; cache the session per user", c.cfg.LoginsPerMinute))
		return
	}
	raw, ok := bearer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "LOGIN-1", "Unauthorized", "no Authorization: Bearer <jwt> header")
		return
	}
	u, jti, exp, p := c.check(raw, now)
	if p == nil {
		c.mu.Lock()
		for id, e := range c.jtis {
			if now.After(e.Add(c.cfg.ClockTolerance)) {
				delete(c.jtis, id)
			}
		}
		if _, seen := c.jtis[jti]; seen {
			p = refuse(kindReplay, "jti %q was used before; every token needs a new jti", jti)
		} else {
			c.jtis[jti] = exp
		}
		c.mu.Unlock()
	}
	if p != nil {
		status, code, title := http.StatusUnauthorized, "INTERNAL-TOKEN-2", "Unauthorized"
		switch p.kind {
		case kindMalformed, kindClaims:
			status, code, title = http.StatusBadRequest, "INTERNAL-TOKEN-1", "Bad Request"
		case kindTime:
			code = "INTERNAL-TOKEN-3"
		case kindIssuer:
			code = "INTERNAL-TOKEN-4"
		case kindReplay:
			code = "INTERNAL-TOKEN-5"
		}
		writeError(w, status, code, title, p.detail)
		return
	}

	id := randomID(24)
	s := &cloudSession{csrf: randomID(24), lastUsed: now}
	c.mu.Lock()
	if old, ok := c.users[u.Subject]; ok {
		old.Name, old.Email, old.EmailVerified, old.Groups = u.Name, u.Email, u.EmailVerified, u.Groups
		s.user = old
	} else {
		u.ID, u.TenantID, u.Status = mac(c.secret, "user:"+u.Subject)[:24], "qliktest-tenant", "active"
		c.users[u.Subject] = u
		s.user = u
	}
	c.sessions[id] = s
	c.logins[u.Subject]++
	c.loginTotal++
	c.mu.Unlock()

	secure := r.TLS != nil
	for _, ck := range []*http.Cookie{
		{Name: CloudSessionCookie, Value: id},
		{Name: CloudSessionSigCookie, Value: mac(c.secret, id)},
		{Name: cloudCSRFCookie, Value: randomID(16)},
	} {
		ck.Path, ck.HttpOnly, ck.Secure = "/", true, secure
		if secure {
			ck.SameSite = http.SameSiteNoneMode
		}
		http.SetCookie(w, ck)
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// session returns the request's live session, or answers 401 and returns
// nil.
func (c *Cloud) session(w http.ResponseWriter, r *http.Request) *cloudSession {
	if s := c.oauthSession(r); s != nil {
		return s
	}
	id := cookieValue(r, CloudSessionCookie)
	sig := cookieValue(r, CloudSessionSigCookie)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	s := c.sessions[id]
	if s == nil || sig != mac(c.secret, id) {
		writeError(w, http.StatusUnauthorized, "AUTH-1", "Unauthorized", "no live session: log in at POST /login/jwt-session and send all the cookies it set")
		return nil
	}
	s.lastUsed = c.now()
	return s
}

// api serves /api/v1/...
func (c *Cloud) api(w http.ResponseWriter, r *http.Request) {
	s := c.session(w, r)
	if s == nil {
		return
	}
	c.mu.Lock()
	csrf, user := s.csrf, *s.user
	c.mu.Unlock()
	if !s.bearer && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
		switch got := r.Header.Get("qlik-csrf-token"); {
		case got == "":
			writeError(w, http.StatusForbidden, "CSRF-TOKEN-1", "Forbidden", "non-GET calls need the qlik-csrf-token header; read it from GET /api/v1/csrf-token")
			return
		case got != csrf:
			writeError(w, http.StatusForbidden, "CSRF-TOKEN-2", "Forbidden", "the CSRF token is stale; fetch GET /api/v1/csrf-token again")
			return
		}
	}
	switch r.URL.Path {
	case "/api/v1/csrf-token":
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use GET")
			return
		}
		c.mu.Lock()
		c.csrfFetches++
		c.mu.Unlock()
		w.Header().Set("qlik-csrf-token", csrf)
		w.WriteHeader(http.StatusNoContent)
	case "/api/v1/users/me":
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use GET")
			return
		}
		writeJSON(w, http.StatusOK, user)
	case "/api/v1/spaces":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use POST")
			return
		}
		var in struct{ Name, Type string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
			writeError(w, http.StatusBadRequest, "SPACES-1", "Bad Request", `the body must be {"name":…,"type":"shared"}`)
			return
		}
		if in.Type == "" {
			in.Type = "shared"
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": randomID(12), "name": in.Name, "type": in.Type,
			"ownerId": user.ID, "tenantId": user.TenantID})
	default:
		writeError(w, http.StatusNotFound, "HTTP-404", "Not Found", r.URL.Path)
	}
}
