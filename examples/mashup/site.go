package main

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/session"
)

//go:embed page.html
var page string

// siteUser is a user of the site, with the Qlik users they are.
type siteUser struct {
	Password string
	Cloud    qsjwt.CloudUser
	QSEoW    qsjwt.QSEoWUser
}

// users are the site's demo users. A real site has its own user store or
// SSO; what matters is that the site, after its own sign-in, decides which
// Qlik user a browser is, and never takes a user name from the page.
var users = map[string]siteUser{
	"alice": {"wonderland", qsjwt.CloudUser{Subject: "site-user-1001", Name: "Alice Adams", Email: "alice@example.com", EmailVerified: true},
		qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "alice", Name: "Alice Adams"}},
	"bob": {"builder", qsjwt.CloudUser{Subject: "site-user-1002", Name: "Bob Berg", Email: "bob@example.com", EmailVerified: true},
		qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "bob", Name: "Bob Berg"}},
}

// siteCookie is the site's own session cookie.
const siteCookie = "mashup_site"

// siteSessionTTL is how long a site session lasts.
const siteSessionTTL = 8 * time.Hour

// config is what the site serves: the Qlik it reaches, and how browsers
// reach the site and the tenant.
type config struct {
	Origin string // the site's public origin, e.g. https://www.example.com

	Cloud            *qsjwt.Cloud // nil: no Qlik Cloud
	Tenant           string       // the tenant, as the site's server reaches it
	BrowserTenant    string       // and as the browser does (direct mode)
	WebIntegrationID string
	CloudTransport   http.RoundTripper // nil: http.DefaultTransport

	OAuth         *session.OAuth // nil: no OAuth mode
	OAuthClientID string         // its client ID, which the page's token exchange names

	QSEoW          *qsjwt.QSEoW // nil: no QSEoW
	Proxy          string       // the virtual proxy (server and prefix), as the site's server reaches it
	QSEoWTransport http.RoundTripper

	AppID string // the app the page opens over the engine WebSocket
}

// site is the web site: its sign-in, the page, and Qlik behind it.
type site struct {
	cfg    config
	origin *url.URL
	mux    *http.ServeMux

	cloudProxy, qseowProxy *session.Proxy

	mu       sync.Mutex
	sessions map[string]siteSession // by cookie value
}

type siteSession struct {
	user    string
	expires time.Time
}

func newSite(cfg config) (*site, error) {
	origin, err := url.Parse(cfg.Origin)
	if err != nil || origin.Host == "" || origin.Path != "" {
		return nil, fmt.Errorf("-site-url %q: give the site's public origin, such as https://www.example.com", cfg.Origin)
	}
	s := &site{cfg: cfg, origin: origin, mux: http.NewServeMux(), sessions: map[string]siteSession{}}
	s.mux.HandleFunc("GET /{$}", s.servePage)
	s.mux.HandleFunc("POST /site/login", s.login)
	s.mux.HandleFunc("POST /site/logout", s.logout)
	s.mux.HandleFunc("GET /site/me", s.me)
	allowed := session.WithAllowedOrigins(cfg.Origin)
	if cfg.Cloud != nil {
		if s.cloudProxy, err = session.NewCloudProxy(cfg.Tenant, cfg.Cloud, s.cloudUser, allowed, session.WithBaseTransport(cfg.CloudTransport)); err != nil {
			return nil, err
		}
		s.mux.Handle("/qlik/cloud/", http.StripPrefix("/qlik/cloud", s.cloudProxy))
		tokens, err := session.NewCloudTokenHandler(cfg.Cloud, s.cloudUser, allowed)
		if err != nil {
			return nil, err
		}
		s.mux.Handle("/token/cloud", tokens)
	}
	if cfg.OAuth != nil {
		// For a page that calls Qlik Cloud with an access token of the
		// signed-in user (OAuth impersonation), as qlik-embed's
		// data-get-access-token callback does.
		tokens, err := session.NewOAuthTokenHandler(cfg.OAuth, s.cloudUser, allowed)
		if err != nil {
			return nil, err
		}
		s.mux.Handle("/token/oauth", tokens)
	}
	if cfg.QSEoW != nil {
		if s.qseowProxy, err = session.NewQSEoWProxy(cfg.Proxy, cfg.QSEoW, s.qseowUser, allowed, session.WithBaseTransport(cfg.QSEoWTransport)); err != nil {
			return nil, err
		}
		s.mux.Handle("/qlik/qseow/", http.StripPrefix("/qlik/qseow", s.qseowProxy))
		// For @qlik/api's windowscookie auth (getAccessToken) where the
		// QSEoW server is on the site's own site (same registrable domain).
		tokens, err := session.NewQSEoWTokenHandler(cfg.QSEoW, s.qseowUser, allowed)
		if err != nil {
			return nil, err
		}
		s.mux.Handle("/token/qseow", tokens)
	}
	return s, nil
}

// ServeHTTP sends a browser that reached the site under another name (an
// IP address, 127.0.0.1 for localhost) to the site's public origin: the
// site's cookie, the Origin checks and the tenant's web integration all
// name that origin, and under another name every call would be refused.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !strings.EqualFold(r.Host, s.origin.Host) {
		to := s.cfg.Origin + r.URL.RequestURI()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, to, http.StatusTemporaryRedirect)
			return
		}
		writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("this site is %s, not %s", s.cfg.Origin, r.Host),
			"open the page at "+s.cfg.Origin+": the site's cookie and Qlik's web integration are for that origin only")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *site) servePage(w http.ResponseWriter, r *http.Request) {
	cfg, _ := json.Marshal(map[string]any{
		"tenant": s.cfg.BrowserTenant, "webIntegrationId": s.cfg.WebIntegrationID, "appId": s.cfg.AppID,
		"cloud": s.cfg.Cloud != nil, "qseow": s.cfg.QSEoW != nil, "origin": s.cfg.Origin,
		"oauth": s.cfg.OAuth != nil, "oauthClientId": s.cfg.OAuthClientID,
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = strings.NewReplacer("{{CONFIG}}", string(cfg)).WriteString(w, page)
}

// signedIn returns the site's user of r, from the site's own cookie.
func (s *site) signedIn(r *http.Request) (string, siteUser, error) {
	c, err := r.Cookie(siteCookie)
	if err != nil {
		return "", siteUser{}, errors.New("no site session: sign in with the form")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[c.Value]
	if !ok || time.Now().After(ss.expires) {
		delete(s.sessions, c.Value)
		return "", siteUser{}, errors.New("the site session has ended: sign in again")
	}
	return ss.user, users[ss.user], nil
}

func (s *site) cloudUser(r *http.Request) (qsjwt.CloudUser, error) {
	_, u, err := s.signedIn(r)
	return u.Cloud, err
}

func (s *site) qseowUser(r *http.Request) (qsjwt.QSEoWUser, error) {
	_, u, err := s.signedIn(r)
	return u.QSEoW, err
}

// login is the site's own sign-in form: the one place a user name comes
// from the browser, and it needs the password.
func (s *site) login(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, s.cfg.Origin) {
		writeError(w, http.StatusForbidden, "sign-in from "+o+" refused", "sign in on "+s.cfg.Origin)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	name := r.PostFormValue("user")
	u, ok := users[name]
	if !ok || subtle.ConstantTimeCompare([]byte(r.PostFormValue("password")), []byte(u.Password)) != 1 {
		http.Redirect(w, r, "/?signin=failed", http.StatusSeeOther)
		return
	}
	id := rand.Text()
	now := time.Now()
	s.mu.Lock()
	for k, ss := range s.sessions {
		if now.After(ss.expires) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = siteSession{user: name, expires: now.Add(siteSessionTTL)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: siteCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.origin.Scheme == "https",
		SameSite: http.SameSiteLaxMode, MaxAge: int(siteSessionTTL / time.Second)})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the site session and drops the user's Qlik sessions kept by
// the proxies.
func (s *site) logout(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, s.cfg.Origin) {
		writeError(w, http.StatusForbidden, "sign-out from "+o+" refused", "sign out on "+s.cfg.Origin)
		return
	}
	for _, p := range []*session.Proxy{s.cloudProxy, s.qseowProxy} {
		if p != nil {
			_ = p.Drop(r)
		}
	}
	if c, err := r.Cookie(siteCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: siteCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.origin.Scheme == "https", SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// me says who is signed in to the site, for the page.
func (s *site) me(w http.ResponseWriter, r *http.Request) {
	name, u, err := s.signedIn(r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error(), "sign in with the form")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user": name, "name": u.Cloud.Name})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers as the session package's handlers do: what went wrong
// and what to check.
func writeError(w http.ResponseWriter, status int, msg, check string) {
	writeJSON(w, status, map[string]string{"error": msg, "check": check})
}
