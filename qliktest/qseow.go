package qliktest

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults of an emulated QSEoW virtual proxy.
const (
	DefaultPrefix             = "jwt"
	DefaultUserIDClaim        = "userId"
	DefaultUserDirectoryClaim = "userDirectory"
	// DefaultMaxSessions is QSEoW's limit of concurrent sessions per user.
	DefaultMaxSessions = 5
)

// QSEoWConfig configures [NewQSEoW]. The zero value is a virtual proxy with
// prefix "jwt", claims userId and userDirectory, no audience, a generated
// key, TLS and the wall clock.
type QSEoWConfig struct {
	// Prefix is the virtual proxy's prefix; "" means [DefaultPrefix].
	Prefix string
	// UserIDClaim and UserDirectoryClaim are the "JWT attribute for user ID"
	// and "for user directory".
	UserIDClaim, UserDirectoryClaim string
	// Audience is the "JWT audience"; "" means aud is not checked.
	Audience string
	// Certificate is the "JWT certificate". Nil: a key is made (one per
	// process) and QSEoW.Key holds it for signing tokens.
	Certificate *x509.Certificate
	// SessionCookieName is the session cookie's name; "" means
	// X-Qlik-Session-<prefix>, with -HTTP appended over plain http.
	SessionCookieName string
	// SessionTimeout is the session inactivity timeout; 0 means 30 minutes.
	SessionTimeout time.Duration
	// MaxSessionsPerUser is the limit of live sessions per user; 0 means 5.
	MaxSessionsPerUser int
	// AllowedOrigins are origins besides the server's own that may open the
	// engine WebSocket and make cross-origin calls (the host allow list).
	AllowedOrigins []string
	// ClockTolerance is how far exp and nbf may miss the proxy's clock: 0
	// means 5 s (Qlik documents none for QSEoW; qsjwt assumes Qlik Cloud's
	// default), a negative value none; over two hours NewQSEoW panics.
	ClockTolerance time.Duration
	// Now is the proxy's clock; nil means time.Now.
	Now func() time.Time
	// PlainHTTP serves http:// instead of https://.
	PlainHTTP bool
}

// QSEoW is an emulated client-managed Qlik Sense server with one virtual
// proxy using JWT authentication, listening on loopback. Under
// /<prefix>/ it serves:
//
//   - GET qrs/about (the repository's build information), GET qps/csrftoken
//     (the session's CSRF token in the response header qlik-csrf-token) and
//     GET qps/user (the session's user). Each needs the xrfkey query
//     parameter and an X-Qlik-Xrfkey header with the same 16 characters.
//   - GET qlik-embed/main.js: a static script, without xrfkey; with a
//     Bearer token it opens the session as any request does, which is how
//     @qlik/api's windowscookie auth exchanges its token for the cookie.
//   - GET app/<appId>: the engine WebSocket, which needs the session
//     cookie, ?qlik-csrf-token= and no Authorization header; an Origin
//     header, when sent, must be the server's own or in AllowedOrigins (a
//     missing one is accepted, rule S-WS-2). The engine sends
//     OnAuthenticationInformation and OnConnected, then answers the JSON-RPC
//     that opens and reads [SampleAppID] (EngineVersion, OpenDoc,
//     GetAppLayout, GetObjects, GetAllInfos, CreateSessionObject, GetLayout,
//     ...; the delta protocol when asked) and an error for anything else.
//
// A request with a live session cookie uses that session. Otherwise an
// Authorization: Bearer token opens a new session (and sets the cookie),
// unless the token is refused as the rows Q-* of docs/qlik-rules.md say
// (wrong alg or signature, a missing, empty or malformed user ID or
// directory, a wrong or array audience when one is set, a date that is not a
// whole number, nbf not before exp, an expired or not yet valid token) or
// the user has MaxSessionsPerUser live sessions (403). Its methods are safe for concurrent use.
type QSEoW struct {
	// URL is the server's base URL, e.g. https://127.0.0.1:54321; ProxyURL
	// is URL/<prefix>, the virtual proxy's.
	URL, ProxyURL string
	// Prefix, UserIDClaim, UserDirectoryClaim, Audience and
	// SessionCookieName are the virtual proxy's settings.
	Prefix, UserIDClaim, UserDirectoryClaim, Audience, SessionCookieName string
	// Certificate is the virtual proxy's "JWT certificate".
	Certificate *x509.Certificate
	// Key signs tokens the proxy accepts; nil when QSEoWConfig.Certificate
	// was given.
	Key *rsa.PrivateKey

	server
	cfg QSEoWConfig

	mu       sync.Mutex
	sessions map[string]*qseowSession // by cookie value
	opened   map[string]int           // sessions opened, by DIRECTORY\user
	total    int
	refused  int
}

type qseowSession struct {
	user     qpsUser
	csrf     string
	lastUsed time.Time
}

type qpsUser struct {
	UserDirectory string `json:"userDirectory"`
	UserID        string `json:"userId"`
}

func (u qpsUser) key() string { return u.UserDirectory + `\` + u.UserID }

// NewQSEoW starts an emulated virtual proxy. It panics when the
// configuration is one qsjwt's rules refuse (cfg.Certificate does not hold an
// RSA key of at least 2048 bits, cfg.ClockTolerance is over two hours) or
// the server cannot listen. Close it when done.
func NewQSEoW(cfg QSEoWConfig) *QSEoW {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.UserIDClaim == "" {
		cfg.UserIDClaim = DefaultUserIDClaim
	}
	if cfg.UserDirectoryClaim == "" {
		cfg.UserDirectoryClaim = DefaultUserDirectoryClaim
	}
	if cfg.SessionCookieName == "" {
		cfg.SessionCookieName = "X-Qlik-Session-" + cfg.Prefix
		if cfg.PlainHTTP {
			cfg.SessionCookieName += "-HTTP"
		}
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	cfg.ClockTolerance = clockTolerance(cfg.ClockTolerance)
	if cfg.MaxSessionsPerUser <= 0 {
		cfg.MaxSessionsPerUser = DefaultMaxSessions
	}
	q := &QSEoW{
		Prefix: cfg.Prefix, UserIDClaim: cfg.UserIDClaim, UserDirectoryClaim: cfg.UserDirectoryClaim,
		Audience: cfg.Audience, SessionCookieName: cfg.SessionCookieName,
		cfg: cfg, sessions: map[string]*qseowSession{}, opened: map[string]int{},
	}
	if err := q.setup(cfg.Now, cfg.Certificate, "qliktest QSEoW virtual proxy"); err != nil {
		panic(err)
	}
	q.Certificate, q.Key = q.cert, q.key
	q.start(http.HandlerFunc(q.serveHTTP), cfg.PlainHTTP)
	q.URL = q.srv.URL
	q.ProxyURL = q.URL + "/" + cfg.Prefix
	return q
}

// ServerCertificatePEM returns the server's TLS certificate in PEM (nil with
// PlainHTTP), for programs that take a file of certificates to trust.
func (q *QSEoW) ServerCertificatePEM() []byte { return q.serverCertificatePEM() }

// Close shuts the server down.
func (q *QSEoW) Close() { q.close() }

// Client returns an HTTP client that trusts the server's TLS certificate.
// Its Transport is a good Base for session.WithBaseTransport.
func (q *QSEoW) Client() *http.Client { return q.srv.Client() }

// CertificatePEM returns the "JWT certificate" in PEM.
func (q *QSEoW) CertificatePEM() []byte { return certificatePEM(q.Certificate) }

// KeyPEM returns Key as PKCS #8 PEM (nil when there is no Key). It is a test
// key.
func (q *QSEoW) KeyPEM() []byte { return keyPEM(q.Key) }

// SessionsOpened returns the number of sessions opened, in all or, with
// users given as DIRECTORY\userId, for those users only.
func (q *QSEoW) SessionsOpened(users ...string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(users) == 0 {
		return q.total
	}
	n := 0
	for _, u := range users {
		n += q.opened[u]
	}
	return n
}

// ActiveSessions returns the number of live sessions, in all or for the
// user given as DIRECTORY\userId.
func (q *QSEoW) ActiveSessions(user ...string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.expireLocked()
	n := 0
	for _, s := range q.sessions {
		if len(user) == 0 || contains(user, s.user.key()) {
			n++
		}
	}
	return n
}

// SessionLimitRefusals returns how many requests were refused because their
// user already had MaxSessionsPerUser live sessions.
func (q *QSEoW) SessionLimitRefusals() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.refused
}

// ExpireSessions ends every session, as the inactivity timeout would.
func (q *QSEoW) ExpireSessions() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.sessions)
}

func (q *QSEoW) expireLocked() {
	now := q.now()
	for id, s := range q.sessions {
		if now.Sub(s.lastUsed) >= q.cfg.SessionTimeout {
			delete(q.sessions, id)
		}
	}
}

func (q *QSEoW) originAllowed(r *http.Request, origin string) bool {
	return sameOrigin(r, origin) || contains(q.cfg.AllowedOrigins, origin)
}

func (q *QSEoW) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+q.cfg.Prefix+"/")
	if !ok {
		writeError(w, http.StatusNotFound, "QPS-404", "Not Found", fmt.Sprintf("no virtual proxy serves %s; the JWT virtual proxy's prefix is /%s/", r.URL.Path, q.cfg.Prefix))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(r, origin) {
		if !q.originAllowed(r, origin) {
			writeError(w, http.StatusForbidden, "QPS-ORIGIN-1", "Forbidden", fmt.Sprintf("origin %s is not in the virtual proxy's host allow list", origin))
			return
		}
		if cors(w, r, origin) {
			return
		}
	}
	if app, ok := strings.CutPrefix(rest, "app/"); ok && app != "" {
		q.engine(w, r, app)
		return
	}
	s := q.authenticate(w, r)
	if s == nil {
		return
	}
	if rest == embedMainJS {
		serveEmbedMainJS(w, r)
		return
	}
	key := r.URL.Query().Get("xrfkey")
	if len(key) != 16 || r.Header.Get("X-Qlik-Xrfkey") != key {
		writeError(w, http.StatusForbidden, "QRS-XRF-1", "Forbidden",
			"XSRF prevention check failed: send ?xrfkey= and the X-Qlik-Xrfkey header with the same 16 characters")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use GET")
		return
	}
	switch rest {
	case "qrs/about":
		writeJSON(w, http.StatusOK, map[string]any{"buildVersion": "14.254.6", "buildDate": "11/14/2025", "databaseProvider": "Devart.Data.PostgreSql",
			"nodeType": 1, "sharedPersistence": true, "requiresBootstrap": false, "singleNodeOnly": false, "schemaPath": "About"})
	case "qps/csrftoken":
		w.Header().Set("qlik-csrf-token", s.csrf)
		w.WriteHeader(http.StatusOK)
	case "qps/user":
		writeJSON(w, http.StatusOK, s.user)
	default:
		writeError(w, http.StatusNotFound, "HTTP-404", "Not Found", r.URL.Path)
	}
}

// authenticate returns the request's session: the live one its cookie
// names, or a new one opened with its Bearer token. Otherwise it answers and
// returns nil.
func (q *QSEoW) authenticate(w http.ResponseWriter, r *http.Request) *qseowSession {
	now := q.now()
	id := cookieValue(r, q.cfg.SessionCookieName)
	q.mu.Lock()
	q.expireLocked()
	if s := q.sessions[id]; s != nil {
		s.lastUsed = now
		q.mu.Unlock()
		return s
	}
	q.mu.Unlock()

	raw, ok := bearer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "QPS-AUTH-1", "Unauthorized", "no live session cookie and no Authorization: Bearer <jwt> header")
		return nil
	}
	u, p := q.check(raw, now)
	if p != nil {
		code := map[kind]string{kindMalformed: "QPS-JWT-1", kindClaims: "QPS-JWT-1", kindSignature: "QPS-JWT-2", kindTime: "QPS-JWT-3", kindIssuer: "QPS-JWT-4"}[p.kind]
		writeError(w, http.StatusUnauthorized, code, "Unauthorized", p.detail)
		return nil
	}

	q.mu.Lock()
	live := 0
	for _, s := range q.sessions {
		if s.user == u {
			live++
		}
	}
	if live >= q.cfg.MaxSessionsPerUser {
		q.refused++
		q.mu.Unlock()
		writeError(w, http.StatusForbidden, "QPS-SESSION-LIMIT", "Forbidden",
			fmt.Sprintf("access denied for %s: %d sessions are open; reuse the session cookie", u.key(), live))
		return nil
	}
	id = randomID(24)
	s := &qseowSession{user: u, csrf: randomID(24), lastUsed: now}
	q.sessions[id] = s
	q.opened[u.key()]++
	q.total++
	q.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: q.cfg.SessionCookieName, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil})
	return s
}

// engine is the engine WebSocket at /<prefix>/app/<app>, app being the
// app ID and what may follow it.
func (q *QSEoW) engine(w http.ResponseWriter, r *http.Request, app string) {
	if r.Header.Get("Authorization") != "" {
		writeError(w, http.StatusBadRequest, "QPS-WS-1", "Bad Request", "the WebSocket upgrade must not carry an Authorization header; use the session cookie")
		return
	}
	// S-WS-2: a foreign Origin is refused; none at all (a client outside a
	// browser, such as Qlik's own Node client) is accepted.
	if origin := r.Header.Get("Origin"); origin != "" && !q.originAllowed(r, origin) {
		writeError(w, http.StatusForbidden, "QPS-ORIGIN-1", "Forbidden", fmt.Sprintf("origin %q is not in the virtual proxy's host allow list", origin))
		return
	}
	id := cookieValue(r, q.cfg.SessionCookieName)
	q.mu.Lock()
	q.expireLocked()
	s := q.sessions[id]
	if s != nil {
		s.lastUsed = q.now()
	}
	q.mu.Unlock()
	if s == nil {
		writeError(w, http.StatusUnauthorized, "QPS-AUTH-1", "Unauthorized", "no live session cookie")
		return
	}
	if r.URL.Query().Get("qlik-csrf-token") != s.csrf {
		writeError(w, http.StatusForbidden, "CSRF-TOKEN-2", "Forbidden", "the engine WebSocket needs ?qlik-csrf-token= from GET /<prefix>/qps/csrftoken")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	serveEngine(q.stop, w, r, app, engineUser{
		authenticated: "UserDirectory=" + s.user.UserDirectory + "; UserId=" + s.user.UserID,
		qseow: map[string]any{"userId": s.user.UserID, "userDirectory": s.user.UserDirectory,
			"logoutUri": scheme + "://" + r.Host + "/" + q.cfg.Prefix + "/qps/user", "mustAuthenticate": false},
	})
}

// embedMainJS is the qlik-embed script under the virtual proxy. @qlik/api's
// windowscookie auth fetches it with Authorization: Bearer <jwt> to turn a
// token into the proxy session (the response sets the session cookie); it
// is a static file, so, unlike the QRS and QPS APIs, it needs no xrfkey.
const embedMainJS = "qlik-embed/main.js"

// embedMainJSBody stands in for Qlik's qlik-embed bundle.
const embedMainJSBody = "/* qliktest: stands in for qlik-embed's main.js; the proxy session is open. */\n"

func serveEmbedMainJS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use GET")
		return
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, embedMainJSBody)
	}
}
