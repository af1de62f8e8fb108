package qliktest

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// SiteConfig configures [NewSite]. The zero value is a site with the wall
// clock and QSEoW's session limits.
type SiteConfig struct {
	// Now is the site's clock; nil means time.Now.
	Now func() time.Time
	// MaxSessionsPerUser and SessionTimeout apply to every virtual proxy; 0
	// means 5 and 30 minutes.
	MaxSessionsPerUser int
	SessionTimeout     time.Duration
}

// Site is an emulated client-managed Qlik Sense site with its Repository
// Service API (QRS, port 4242 on a real site) and its proxy, both over TLS
// with certificates from a test CA made for the site. It starts with no
// virtual proxy and two proxy services, the central node's and a rim
// node's. The QRS serves, to clients with the site's client certificate, an
// X-Qlik-User header and an xrfkey:
//
//   - GET/POST /qrs/virtualproxyconfig, GET/PUT/DELETE
//     /qrs/virtualproxyconfig/{id} (also .../full, ?filter=prefix eq '…'):
//     prefix and sessionCookieHeaderName must be unique, a JWT virtual proxy
//     (authenticationMethod 4) needs a PEM jwtPublicKeyCertificate and both
//     JWT attributes, and a PUT needs the entity's current modifiedDate
//     (409 otherwise);
//   - GET /qrs/proxyservice[/full], GET/PUT /qrs/proxyservice/{id}: a PUT
//     with the whole entity and its modifiedDate links the virtual proxies
//     in settings.virtualProxies.
//
// The proxy serves a virtual proxy under /<prefix>/ as [QSEoW] does, only
// once it is linked to a proxy service; linked to no central proxy its
// /qps/csrftoken answers 400. A token for a prefix never set up gets 404.
type Site struct {
	// URL is the proxy's base URL; QRSURL the QRS's.
	URL, QRSURL string
	// CAPEM is the test CA that issued the servers' and the client's
	// certificates; ClientCertPEM and ClientKeyPEM are the client
	// certificate QRS calls need (client.pem and client_key.pem on a real
	// site). Test material only.
	CAPEM, ClientCertPEM, ClientKeyPEM []byte

	cfg        SiteConfig
	now        func() time.Time
	proxy, qrs *httptest.Server
	pool       *x509.CertPool

	mu       sync.Mutex
	last     time.Time // the latest modifiedDate given
	vps      []*siteVP
	services []map[string]any
	changes  int
}

type siteVP struct {
	entity map[string]any
	q      *QSEoW // serves it; rebuilt when the entity changes
}

// NewSite starts an emulated site. Close it when done.
func NewSite(cfg SiteConfig) *Site {
	s := &Site{cfg: cfg, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	ca, caKey := mustCert(nil, nil, "qliktest site CA", true)
	srv, srvKey := mustCert(ca, caKey, "127.0.0.1", false)
	cli, cliKey := mustCert(ca, caKey, "QlikClient", false)
	s.CAPEM = certificatePEM(ca)
	s.ClientCertPEM = certificatePEM(cli)
	der, _ := x509.MarshalPKCS8PrivateKey(cliKey)
	s.ClientKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	s.pool = x509.NewCertPool()
	s.pool.AddCert(ca)
	pair := tls.Certificate{Certificate: [][]byte{srv.Raw}, PrivateKey: srvKey, Leaf: srv}

	now := s.now().UTC().Format(time.RFC3339Nano)
	for i, name := range []string{"central", "rim1"} {
		s.services = append(s.services, map[string]any{
			"id": uuid(), "createdDate": now, "modifiedDate": now, "modifiedByUserName": `INTERNAL\sa_repository`,
			"customProperties": []any{}, "tags": []any{}, "privileges": nil, "schemaPath": "ProxyService",
			"serverNodeConfiguration": map[string]any{"id": uuid(), "name": name, "hostName": "127.0.0.1", "isCentral": i == 0, "privileges": nil},
			"settings": map[string]any{"id": uuid(), "createdDate": now, "modifiedDate": now, "listenPort": 443, "allowHttp": false,
				"unencryptedListenPort": 80, "authenticationListenPort": 4244, "kerberosAuthentication": false,
				"unencryptedAuthenticationListenPort": 4248, "keepAliveTimeoutSeconds": 10, "maxHeaderSizeBytes": 16384,
				"maxHeaderLines": 100, "restListenPort": 4243, "virtualProxies": []any{}, "schemaPath": "ProxyServiceSettings"},
		})
	}
	s.proxy = httptest.NewUnstartedServer(http.HandlerFunc(s.serveProxy))
	s.proxy.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	s.proxy.StartTLS()
	s.qrs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveQRS))
	s.qrs.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: s.pool}
	s.qrs.StartTLS()
	s.URL, s.QRSURL = s.proxy.URL, s.qrs.URL
	return s
}

// Close shuts the site down.
func (s *Site) Close() {
	s.proxy.Close()
	s.qrs.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.vps {
		if v.q != nil {
			v.q.Close()
		}
	}
}

// Client returns an HTTP client for the proxy that trusts the site's CA (and
// sends no client certificate).
func (s *Site) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.pool}
	return &http.Client{Transport: tr}
}

// RootCAs returns a pool holding the site's CA.
func (s *Site) RootCAs() *x509.CertPool { return s.pool.Clone() }

// Changes returns the number of changes made through the QRS (creations,
// updates, links), for tests that a second setup changes nothing.
func (s *Site) Changes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes
}

// VirtualProxy returns the emulator serving the virtual proxy of prefix,
// nil when there is none, to count its sessions in tests.
func (s *Site) VirtualProxy(prefix string) *QSEoW {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.vps {
		if v.entity["prefix"] == prefix {
			return v.q
		}
	}
	return nil
}

func (s *Site) serveProxy(w http.ResponseWriter, r *http.Request) {
	prefix, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.mu.Lock()
	var vp *siteVP
	for _, v := range s.vps {
		if v.entity["prefix"] == prefix {
			vp = v
		}
	}
	linked, central := s.linkedLocked(vp)
	s.mu.Unlock()
	if vp == nil || !linked {
		writeError(w, http.StatusNotFound, "QPS-404", "Not Found", fmt.Sprintf("no virtual proxy linked to a proxy service serves /%s/", prefix))
		return
	}
	if rest == "qps/csrftoken" && !central {
		writeError(w, http.StatusBadRequest, "QPS-400", "Bad Request", "the virtual proxy is not linked to the central node's proxy service")
		return
	}
	vp.q.serveHTTP(w, r)
}

// linkedLocked reports whether vp is linked to any proxy service and to the
// central one.
func (s *Site) linkedLocked(vp *siteVP) (linked, central bool) {
	if vp == nil {
		return false, false
	}
	for _, svc := range s.services {
		for _, l := range svc["settings"].(map[string]any)["virtualProxies"].([]any) {
			if m, ok := l.(map[string]any); ok && m["id"] == vp.entity["id"] {
				linked = true
				central = central || svc["serverNodeConfiguration"].(map[string]any)["isCentral"] == true
			}
		}
	}
	return linked, central
}

func (s *Site) serveQRS(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("xrfkey")
	if len(key) != 16 || r.Header.Get("X-Qlik-Xrfkey") != key {
		writeError(w, http.StatusForbidden, "QRS-XRF-1", "Forbidden", "XSRF prevention check failed: send ?xrfkey= and the X-Qlik-Xrfkey header with the same 16 characters")
		return
	}
	if u := r.Header.Get("X-Qlik-User"); !strings.Contains(u, "UserDirectory=") || !strings.Contains(u, "UserId=") {
		writeError(w, http.StatusForbidden, "QRS-USER-1", "Forbidden", "send X-Qlik-User: UserDirectory=INTERNAL; UserId=sa_repository with the client certificate")
		return
	}
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/qrs/"), "/")
	path = strings.TrimSuffix(path, "/full")
	kind, id, _ := strings.Cut(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "virtualproxyconfig":
		s.virtualProxyConfig(w, r, id)
	case "proxyservice":
		s.proxyService(w, r, id)
	case "about":
		writeJSON(w, http.StatusOK, map[string]any{"buildVersion": "14.254.6", "schemaPath": "About"})
	default:
		writeError(w, http.StatusNotFound, "HTTP-404", "Not Found", r.URL.Path)
	}
}

func (s *Site) virtualProxyConfig(w http.ResponseWriter, r *http.Request, id string) {
	i := slices.IndexFunc(s.vps, func(v *siteVP) bool { return v.entity["id"] == id })
	switch {
	case id == "" && r.Method == http.MethodGet:
		out := []any{}
		field, value := qrsFilter(r.URL.Query().Get("filter"))
		for _, v := range s.vps {
			if field == "" || v.entity[field] == value {
				out = append(out, v.entity)
			}
		}
		writeJSON(w, http.StatusOK, out)
	case id == "" && r.Method == http.MethodPost:
		e, msg := s.checkVP(r, nil)
		if msg != "" {
			writeError(w, http.StatusBadRequest, "QRS-400", "Bad Request", msg)
			return
		}
		if s.conflictLocked(e, "") {
			writeError(w, http.StatusConflict, "QRS-409", "Conflict", "prefix and sessionCookieHeaderName must be unique")
			return
		}
		v := &siteVP{entity: e}
		s.vps = append(s.vps, v)
		s.rebuildLocked(v)
		s.changes++
		writeJSON(w, http.StatusCreated, e)
	case i < 0:
		writeError(w, http.StatusNotFound, "QRS-404", "Not Found", "no virtual proxy "+id)
	case r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.vps[i].entity)
	case r.Method == http.MethodPut:
		e, msg := s.checkVP(r, s.vps[i].entity)
		switch {
		case msg == "conflict":
			writeError(w, http.StatusConflict, "QRS-409", "Conflict", "the entity was modified since it was read: send its current modifiedDate")
		case msg != "":
			writeError(w, http.StatusBadRequest, "QRS-400", "Bad Request", msg)
		case s.conflictLocked(e, id):
			writeError(w, http.StatusConflict, "QRS-409", "Conflict", "prefix and sessionCookieHeaderName must be unique")
		default:
			s.vps[i].entity = e
			s.rebuildLocked(s.vps[i])
			s.changes++
			writeJSON(w, http.StatusOK, e)
		}
	case r.Method == http.MethodDelete:
		if s.vps[i].q != nil {
			s.vps[i].q.Close()
		}
		s.vps = slices.Delete(s.vps, i, i+1)
		s.changes++
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", r.Method)
	}
}

// checkVP reads a virtual proxy body and fills in the system defaults. For a
// PUT (old set) the body must carry the entity's id and current
// modifiedDate ("conflict" otherwise).
func (s *Site) checkVP(r *http.Request, old map[string]any) (map[string]any, string) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		return nil, "the body is not a JSON object"
	}
	now := s.stampLocked()
	e := map[string]any{
		"id": uuid(), "createdDate": now, "customProperties": []any{}, "tags": []any{}, "description": "",
		"authenticationModuleRedirectUri": "", "sessionModuleBaseUri": "", "loadBalancingModuleBaseUri": "",
		"loadBalancingServerNodes": []any{}, "authenticationMethod": float64(0), "anonymousAccessMode": float64(0),
		"windowsAuthenticationEnabledDevicePattern": "Windows", "sessionCookieDomain": "", "additionalResponseHeaders": "",
		"sessionInactivityTimeout": float64(30), "extendedSecurityEnvironment": false, "websocketCrossOriginWhiteList": []any{},
		"defaultVirtualProxy": false, "jwtAudience": "", "jwtPublicKeyCertificate": "", "jwtAttributeUserId": "",
		"jwtAttributeUserDirectory": "", "jwtAttributeMap": []any{}, "schemaPath": "VirtualProxyConfig",
	}
	if old != nil {
		if in["id"] != old["id"] {
			return nil, "the body's id is not the URL's"
		}
		if in["modifiedDate"] != old["modifiedDate"] {
			return nil, "conflict"
		}
		for k, v := range old {
			e[k] = v
		}
	}
	for k, v := range in {
		if k != "id" && k != "createdDate" {
			e[k] = v
		}
	}
	e["modifiedDate"], e["modifiedByUserName"] = now, `INTERNAL\sa_repository`
	prefix, _ := e["prefix"].(string)
	cookie, _ := e["sessionCookieHeaderName"].(string)
	method, _ := e["authenticationMethod"].(float64)
	switch {
	case strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "# ?"):
		return nil, "prefix may not begin or end with / nor hold #, ? or spaces"
	case strings.TrimSpace(cookie) == "":
		return nil, "sessionCookieHeaderName is mandatory"
	case method < 0 || method > 5 || method != float64(int(method)):
		return nil, "authenticationMethod must be 0 to 5"
	}
	for _, h := range asStrings(e["websocketCrossOriginWhiteList"]) {
		if h == "" || strings.Contains(h, "*") {
			return nil, fmt.Sprintf("websocketCrossOriginWhiteList entry %q is not a host name", h)
		}
	}
	for _, it := range asAny(e["jwtAttributeMap"]) {
		m, _ := it.(map[string]any)
		if a, _ := m["jwtAttribute"].(string); a == "" {
			return nil, "every jwtAttributeMap item needs jwtAttribute and senseAttribute"
		}
		if a, _ := m["senseAttribute"].(string); a == "" {
			return nil, "every jwtAttributeMap item needs jwtAttribute and senseAttribute"
		}
	}
	if method == 4 {
		if _, err := jwtCert(e); err != "" {
			return nil, err
		}
		for _, f := range []string{"jwtAttributeUserId", "jwtAttributeUserDirectory"} {
			if v, _ := e[f].(string); strings.TrimSpace(v) == "" {
				return nil, f + " is mandatory for JWT authentication"
			}
		}
	}
	return e, ""
}

func jwtCert(e map[string]any) (*x509.Certificate, string) {
	text, _ := e["jwtPublicKeyCertificate"].(string)
	b, _ := pem.Decode([]byte(text))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, "jwtPublicKeyCertificate must be a PEM certificate, BEGIN and END lines included"
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, "jwtPublicKeyCertificate does not parse"
	}
	return c, ""
}

func (s *Site) conflictLocked(e map[string]any, self string) bool {
	for _, v := range s.vps {
		if v.entity["id"] != self && (v.entity["prefix"] == e["prefix"] ||
			strings.EqualFold(fmt.Sprint(v.entity["sessionCookieHeaderName"]), fmt.Sprint(e["sessionCookieHeaderName"]))) {
			return true
		}
	}
	return false
}

// rebuildLocked makes the emulator that serves a JWT virtual proxy from its
// entity; other authentication methods are stored but serve nothing.
func (s *Site) rebuildLocked(v *siteVP) {
	if v.q != nil {
		v.q.Close()
		v.q = nil
	}
	if m, _ := v.entity["authenticationMethod"].(float64); m != 4 {
		return
	}
	cert, _ := jwtCert(v.entity)
	var origins []string
	for _, h := range asStrings(v.entity["websocketCrossOriginWhiteList"]) {
		origins = append(origins, "https://"+h, "http://"+h)
	}
	prefix, _ := v.entity["prefix"].(string)
	aud, _ := v.entity["jwtAudience"].(string)
	uid, _ := v.entity["jwtAttributeUserId"].(string)
	udir, _ := v.entity["jwtAttributeUserDirectory"].(string)
	cookie, _ := v.entity["sessionCookieHeaderName"].(string)
	// Each virtual proxy is a QSEoW emulator; its own listener is unused,
	// the site's proxy hands it the requests for its prefix.
	v.q = NewQSEoW(QSEoWConfig{Prefix: prefix, UserIDClaim: uid, UserDirectoryClaim: udir, Audience: aud,
		Certificate: cert, SessionCookieName: cookie, AllowedOrigins: origins, Now: s.cfg.Now,
		SessionTimeout: s.cfg.SessionTimeout, MaxSessionsPerUser: s.cfg.MaxSessionsPerUser})
}

func (s *Site) proxyService(w http.ResponseWriter, r *http.Request, id string) {
	i := slices.IndexFunc(s.services, func(m map[string]any) bool { return m["id"] == id })
	switch {
	case id == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.services)
	case i < 0:
		writeError(w, http.StatusNotFound, "QRS-404", "Not Found", "no proxy service "+id)
	case r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.services[i])
	case r.Method == http.MethodPut:
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
			writeError(w, http.StatusBadRequest, "QRS-400", "Bad Request", "the body is not a JSON object")
			return
		}
		old := s.services[i]
		if in["id"] != id {
			writeError(w, http.StatusBadRequest, "QRS-400", "Bad Request", "the body's id is not the URL's")
			return
		}
		if in["modifiedDate"] != old["modifiedDate"] {
			writeError(w, http.StatusConflict, "QRS-409", "Conflict", "the entity was modified since it was read: send the whole entity with its current modifiedDate")
			return
		}
		settings, ok := in["settings"].(map[string]any)
		if !ok || in["serverNodeConfiguration"] == nil {
			writeError(w, http.StatusBadRequest, "QRS-400", "Bad Request", "send the whole entity: settings and serverNodeConfiguration are missing")
			return
		}
		links, _ := settings["virtualProxies"].([]any)
		var kept []any
		for _, l := range links {
			m, _ := l.(map[string]any)
			j := slices.IndexFunc(s.vps, func(v *siteVP) bool { return m != nil && v.entity["id"] == m["id"] })
			if j < 0 {
				writeError(w, http.StatusBadRequest, "QRS-400", "Bad Request", fmt.Sprintf("settings.virtualProxies names no virtual proxy: %v", m["id"]))
				return
			}
			kept = append(kept, map[string]any{"id": s.vps[j].entity["id"], "prefix": s.vps[j].entity["prefix"],
				"description": s.vps[j].entity["description"], "sessionCookieHeaderName": s.vps[j].entity["sessionCookieHeaderName"]})
		}
		if kept == nil {
			kept = []any{}
		}
		now := s.stampLocked()
		os := old["settings"].(map[string]any)
		os["virtualProxies"], os["modifiedDate"] = kept, now
		old["modifiedDate"] = now
		s.changes++
		writeJSON(w, http.StatusOK, old)
	default:
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", r.Method)
	}
}

// stampLocked returns a modifiedDate later than every one before, as a
// real repository's clock gives, even when the site's clock stands still.
func (s *Site) stampLocked() string {
	t := s.now().UTC()
	if !t.After(s.last) {
		t = s.last.Add(time.Millisecond)
	}
	s.last = t
	return t.Format(time.RFC3339Nano)
}

// qrsFilter reads the one filter form the emulator supports:
// "<field> eq '<value>'".
func qrsFilter(f string) (field, value string) {
	field, rest, ok := strings.Cut(strings.TrimSpace(f), " eq ")
	if !ok {
		return "", ""
	}
	return strings.TrimSpace(field), strings.Trim(strings.TrimSpace(rest), "'")
}

func asAny(v any) []any { s, _ := v.([]any); return s }

func asStrings(v any) []string {
	var out []string
	for _, x := range asAny(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
