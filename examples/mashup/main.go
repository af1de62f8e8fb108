// Command mashup is the web backend of a mashup that embeds Qlik Sense for
// the users of its own site. It serves a page and two login endpoints that
// map the site's user to a Qlik user:
//
//   - POST /login/cloud returns what the browser needs to log in to Qlik
//     Cloud itself: the tenant URL, the web integration ID and a new token,
//     which the page exchanges at POST <tenant>/login/jwt-session (with
//     credentials: include and the qlik-web-integration-id header).
//   - POST /login/qseow opens (or reuses) the user's QSEoW proxy session
//     with session.QSEoWTransport and sets its session cookie on the browser,
//     with the CSRF token the engine WebSocket needs. The cookie must reach
//     the Qlik server: serve the backend on the same site as Qlik and give
//     -cookie-domain when the hosts differ.
//
// With no flags it starts an emulated Qlik Cloud tenant and QSEoW virtual
// proxy (qliktest) and the backend in process, logs in once for each like a
// browser would, prints what happened and exits:
//
//	go run ./examples/mashup
//
// With -listen it serves the page until stopped; open http://localhost:8080
// (against the emulators unless flags name a real tenant or server):
//
//	go run ./examples/mashup -listen :8080
//	go run ./examples/mashup -listen :8080 -key-file privatekey.pem \
//	    -tenant https://example.eu.qlikcloud.com -issuer example.com -keyid my-key-id -web-integration-id ID \
//	    -server https://qlik.example.com -prefix jwt -cookie-domain .example.com
//
// Environment variables: QSJWT_TENANT, QSJWT_ISSUER, QSJWT_KEY_ID,
// QSJWT_WEB_INTEGRATION_ID, QSJWT_SERVER, QSJWT_PREFIX, QSJWT_KEY_FILE (or
// the key itself in QSJWT_KEY).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) { // -h printed the flags
		fmt.Fprintln(os.Stderr, "mashup:", err)
	}
	if code := exitCode(err); code != 0 {
		os.Exit(code)
	}
}

// exitCode is 0 for success and for -h or -help, 1 for any failure.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

// siteUser is a user of the site, with the Qlik users they are.
type siteUser struct {
	QSEoW qsjwt.QSEoWUser
	Cloud qsjwt.CloudUser
}

// users maps the site's users to Qlik users. A real site takes the user from
// its own login (its session, its SSO); this demo lets the page name one.
var users = map[string]siteUser{
	"alice": {qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "alice", Name: "Alice Adams"},
		qsjwt.CloudUser{Subject: "site-user-1001", Name: "Alice Adams", Email: "alice@example.com", EmailVerified: true}},
	"bob": {qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "bob", Name: "Bob Berg"},
		qsjwt.CloudUser{Subject: "site-user-1002", Name: "Bob Berg", Email: "bob@example.com", EmailVerified: true}},
}

// backend serves the page and the login endpoints.
type backend struct {
	cloud            *qsjwt.Cloud // nil: no Qlik Cloud
	tenant           string       // as the browser reaches it
	webIntegrationID string

	qseow        *qsjwt.QSEoW // nil: no QSEoW
	proxy        string       // the virtual proxy, as the backend reaches it
	browserProxy string       // and as the browser does
	base         http.RoundTripper
	cookieDomain string

	mu         sync.Mutex
	transports map[string]*session.QSEoWTransport // one per Qlik user: one proxy session each
}

func (b *backend) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("POST /login/cloud", b.loginCloud)
	mux.HandleFunc("POST /login/qseow", b.loginQSEoW)
	return mux
}

func (b *backend) siteUser(w http.ResponseWriter, r *http.Request) (siteUser, bool) {
	u, ok := users[r.FormValue("user")]
	if !ok {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "unknown user"})
	}
	return u, ok
}

// loginCloud returns a new token for the browser to exchange itself: Qlik
// Cloud's session cookies belong to the tenant's domain.
func (b *backend) loginCloud(w http.ResponseWriter, r *http.Request) {
	if b.cloud == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no Qlik Cloud tenant configured"})
		return
	}
	u, ok := b.siteUser(w, r)
	if !ok {
		return
	}
	tok, err := b.cloud.TokenSource(u.Cloud).Token(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"tenant": b.tenant, "webIntegrationId": b.webIntegrationID, "token": tok.Raw})
}

// loginQSEoW opens or reuses the user's proxy session and hands its cookie to
// the browser.
func (b *backend) loginQSEoW(w http.ResponseWriter, r *http.Request) {
	if b.qseow == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no QSEoW server configured"})
		return
	}
	u, ok := b.siteUser(w, r)
	if !ok {
		return
	}
	key := u.QSEoW.UserDirectory + `\` + u.QSEoW.UserID
	b.mu.Lock()
	t := b.transports[key]
	if t == nil {
		var err error
		if t, err = session.NewQSEoWTransport(b.proxy, b.qseow.TokenSource(u.QSEoW), session.WithBaseTransport(b.base)); err != nil {
			b.mu.Unlock()
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		b.transports[key] = t
	}
	b.mu.Unlock()

	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, b.proxy+"/qps/csrftoken", nil)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	resp, err := t.RoundTrip(req)
	if err == nil {
		err = session.CheckResponse(resp)
		resp.Body.Close()
	}
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	proxy, _ := url.Parse(b.proxy)
	secure := proxy.Scheme == "https"
	for _, c := range t.Cookies() {
		sameSite := http.SameSiteLaxMode
		if secure {
			sameSite = http.SameSiteNoneMode
		}
		http.SetCookie(w, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/", Domain: b.cookieDomain, HttpOnly: true, Secure: secure, SameSite: sameSite})
	}
	writeJSON(w, http.StatusOK, map[string]string{"proxy": b.browserProxy, "csrfToken": resp.Header.Get("qlik-csrf-token")})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mashup", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to serve the page on, e.g. :8080; empty: one scripted login against the emulators")
	tenant := fs.String("tenant", os.Getenv("QSJWT_TENANT"), "Qlik Cloud tenant URL; empty: an emulator")
	issuer := fs.String("issuer", os.Getenv("QSJWT_ISSUER"), "the identity provider's issuer")
	keyID := fs.String("keyid", os.Getenv("QSJWT_KEY_ID"), "the identity provider's key ID")
	webID := fs.String("web-integration-id", os.Getenv("QSJWT_WEB_INTEGRATION_ID"), "the tenant's web integration ID for this site's origin")
	server := fs.String("server", os.Getenv("QSJWT_SERVER"), "QSEoW server URL; empty: an emulator")
	prefix := fs.String("prefix", env("QSJWT_PREFIX", "jwt"), "the JWT virtual proxy's prefix")
	keyFile := fs.String("key-file", os.Getenv("QSJWT_KEY_FILE"), "PEM private key for a real tenant or server (or the key itself in QSJWT_KEY)")
	cookieDomain := fs.String("cookie-domain", "", "Domain of the QSEoW session cookie set on the browser, e.g. .example.com")
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" && (*tenant != "" || *server != "") {
		return errors.New("the scripted login runs against the emulators only; add -listen :8080 to serve the page for a real tenant or server")
	}

	// The backend's address comes first: the emulators must allow its origin.
	var ln net.Listener
	var err error
	if *listen != "" {
		if ln, err = net.Listen("tcp", *listen); err != nil {
			return err
		}
	} else if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	site := "http://127.0.0.1:" + port
	browserHost := func(u string) string { return u }
	if *listen != "" {
		// A browser on http://localhost:<port> reaches the emulators on the
		// same site, so that their cookies are sent.
		site = "http://localhost:" + port
		browserHost = func(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }
	}
	origins := []string{site, "http://127.0.0.1:" + port}
	plain := *listen != "" // a browser does not trust the emulators' test certificates

	b := &backend{cookieDomain: *cookieDomain, transports: map[string]*session.QSEoWTransport{}}
	var tenantEmu *qliktest.Cloud
	var proxyEmu *qliktest.QSEoW
	var key qsjwt.Signer
	if *tenant != "" || *server != "" {
		if key, err = loadSigner(*keyFile); err != nil {
			return err
		}
	}
	if *tenant == "" {
		tenantEmu = qliktest.NewCloud(qliktest.CloudConfig{AllowedOrigins: origins, PlainHTTP: plain})
		defer tenantEmu.Close()
		*tenant, *issuer, *keyID, *webID = browserHost(tenantEmu.URL), tenantEmu.Issuer, tenantEmu.KeyID, tenantEmu.WebIntegrationID
	}
	cloudKey := key
	if tenantEmu != nil {
		cloudKey, _ = qsjwt.SignerFromCrypto(tenantEmu.Key)
	}
	if b.cloud, err = qsjwt.NewCloud(cloudKey, *issuer, *keyID); err != nil {
		return err
	}
	b.tenant, b.webIntegrationID = strings.TrimSuffix(*tenant, "/"), *webID

	qseowKey := key
	if *server == "" {
		proxyEmu = qliktest.NewQSEoW(qliktest.QSEoWConfig{Prefix: *prefix, AllowedOrigins: origins, PlainHTTP: plain})
		defer proxyEmu.Close()
		*server, b.base = proxyEmu.URL, proxyEmu.Client().Transport
		qseowKey, _ = qsjwt.SignerFromCrypto(proxyEmu.Key)
	}
	if b.qseow, err = qsjwt.NewQSEoW(qseowKey); err != nil {
		return err
	}
	b.proxy = strings.TrimSuffix(*server, "/") + "/" + strings.Trim(*prefix, "/")
	b.browserProxy = browserHost(b.proxy)

	srv := &http.Server{Handler: b.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if *listen != "" {
		fmt.Fprintf(out, "serving %s (Qlik Cloud %s, QSEoW %s); stop with Ctrl-C\n", site, b.tenant, b.browserProxy)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
	return browse(ctx, out, site, tenantEmu, proxyEmu)
}

// browse logs "alice" in the way the page's script does, with an HTTP client
// that keeps cookies like a browser.
func browse(ctx context.Context, out io.Writer, site string, tenant *qliktest.Cloud, proxy *qliktest.QSEoW) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: tenant.Client().Transport} // trusts the emulators' test certificate
	call := func(method, u string, header map[string]string, form url.Values, into any) error {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := browser.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := session.CheckResponse(resp); err != nil {
			return err
		}
		if into == nil {
			return nil
		}
		return json.NewDecoder(resp.Body).Decode(into)
	}
	fmt.Fprintf(out, "mashup backend at %s, emulated Qlik Cloud tenant at %s, emulated QSEoW proxy at %s\n", site, tenant.URL, proxy.ProxyURL)

	var cloud struct{ Tenant, WebIntegrationID, Token string }
	if err := call(http.MethodPost, site+"/login/cloud", nil, url.Values{"user": {"alice"}}, &cloud); err != nil {
		return err
	}
	fmt.Fprintf(out, "POST %s/login/cloud as alice: a token for %s (%d bytes)\n", site, cloud.Tenant, len(cloud.Token))
	cors := map[string]string{"Origin": site, "qlik-web-integration-id": cloud.WebIntegrationID}
	login := map[string]string{"Authorization": "Bearer " + cloud.Token}
	for k, v := range cors {
		login[k] = v
	}
	if err := call(http.MethodPost, cloud.Tenant+"/login/jwt-session", login, nil, nil); err != nil {
		return err
	}
	var me struct{ Name, Subject string }
	if err := call(http.MethodGet, cloud.Tenant+"/api/v1/users/me", cors, nil, &me); err != nil {
		return err
	}
	fmt.Fprintf(out, "browser: POST /login/jwt-session, then GET /api/v1/users/me: %s (subject %s); logins: %d\n", me.Name, me.Subject, tenant.Logins())

	var qs struct{ Proxy, CSRFToken string }
	if err := call(http.MethodPost, site+"/login/qseow", nil, url.Values{"user": {"alice"}}, &qs); err != nil {
		return err
	}
	fmt.Fprintf(out, "POST %s/login/qseow as alice: session cookie set, CSRF token for the engine WebSocket received: %t\n", site, qs.CSRFToken != "")
	const xrf = "0123456789abcdef" // a page makes a random one per request
	var about struct{ BuildVersion string }
	if err := call(http.MethodGet, qs.Proxy+"/qrs/about?xrfkey="+xrf, map[string]string{"X-Qlik-Xrfkey": xrf, "Origin": site}, nil, &about); err != nil {
		return err
	}
	fmt.Fprintf(out, "browser: GET %s/qrs/about with the session cookie only: repository %s; proxy sessions opened: %d\n", qs.Proxy, about.BuildVersion, proxy.SessionsOpened())
	return nil
}

// loadSigner reads the key from a file or from QSJWT_KEY.
func loadSigner(file string) (qsjwt.Signer, error) {
	if file != "" {
		return qsjwt.SignerFromPEMFile(file)
	}
	if pem := os.Getenv("QSJWT_KEY"); pem != "" {
		return qsjwt.SignerFromPEM([]byte(pem))
	}
	return nil, errors.New("no key: give -key-file, or the PEM key in QSJWT_KEY")
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// page is the mashup's page. It logs in the way browse does.
const page = `<!doctype html>
<meta charset="utf-8">
<title>qsjwt mashup</title>
<h1>qsjwt mashup</h1>
<p>Log in as <select id="user"><option>alice</option><option>bob</option></select>
<button id="cloud">Qlik Cloud</button> <button id="qseow">QSEoW</button></p>
<pre id="out"></pre>
<script>
const out = s => { document.getElementById('out').textContent += s + '\n'; };
const user = () => new URLSearchParams({user: document.getElementById('user').value});
const xrfkey = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), b => b.toString(16).padStart(2, '0')).join('');
document.getElementById('cloud').onclick = async () => {
  const r = await (await fetch('/login/cloud', {method: 'POST', body: user()})).json();
  if (r.error) return out(r.error);
  const h = {'qlik-web-integration-id': r.webIntegrationId};
  const login = await fetch(r.tenant + '/login/jwt-session',
    {method: 'POST', credentials: 'include', headers: {...h, Authorization: 'Bearer ' + r.token}});
  out('POST /login/jwt-session: ' + login.status);
  const me = await fetch(r.tenant + '/api/v1/users/me', {credentials: 'include', headers: h});
  out('GET /api/v1/users/me: ' + me.status + ' ' + await me.text());
};
document.getElementById('qseow').onclick = async () => {
  const r = await (await fetch('/login/qseow', {method: 'POST', body: user()})).json();
  if (r.error) return out(r.error);
  const key = xrfkey();
  const about = await fetch(r.proxy + '/qrs/about?xrfkey=' + key, {credentials: 'include', headers: {'X-Qlik-Xrfkey': key}});
  out('GET /qrs/about: ' + about.status + ' ' + await about.text());
};
</script>
`
