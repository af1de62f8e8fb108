package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// The real-browser test drives the page in Chromium (github.com/chromedp/chromedp
// speaks the DevTools protocol to it) as a person would: the page on
// https://www.corp.test, the emulated Qlik Cloud tenant on
// https://tenant.qlikcloud.test (another site), both on loopback through
// Chromium's host resolver rules, over HTTPS with certificates of a test CA
// made here, and third-party cookies blocked, as Safari, Brave, private
// windows and Chrome with the setting on do.

// Host names the browser uses; --host-resolver-rules sends them to 127.0.0.1.
const (
	siteHost   = "www.corp.test"
	tenantHost = "tenant.qlikcloud.test"
)

// chromium returns the path of a Chromium, or skips the test saying how to
// get one. With QSJWT_REQUIRE_BROWSER set (.ci/run sets it after installing
// Debian's chromium) a missing browser fails the test instead.
func chromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	if p := os.Getenv("QSJWT_CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for " + strings.Join(names, ", ") + "): the real-browser test of the mashup cannot run; " +
		"install one (Debian: apt-get install chromium) or name it in QSJWT_CHROMIUM"
	if os.Getenv("QSJWT_REQUIRE_BROWSER") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// testCA is a CA made for one test and the leaf it signs for the test's
// host names and 127.0.0.1.
type testCA struct {
	ca   *x509.Certificate
	leaf tls.Certificate
}

func newTestCA(t *testing.T, hosts ...string) *testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "qsjwt mashup test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return &testCA{ca: ca, leaf: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}}
}

// spki is the base64 SHA-256 of the CA's public key, as
// --ignore-certificate-errors-spki-list takes it.
func (c *testCA) spki() string {
	sum := sha256.Sum256(c.ca.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// tlsFront accepts TLS with the test CA's certificate on ln and passes the
// bytes to a TLS connection to backend (an emulator, trusted through its
// own certificate): the browser sees the test CA's certificate for
// tenantHost, and the emulator still sees TLS and the browser's Host.
func tlsFront(t *testing.T, ln net.Listener, c *testCA, backend string, trust []byte) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(trust))
	front := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{c.leaf}, NextProtos: []string{"http/1.1"}})
	var wg sync.WaitGroup
	t.Cleanup(func() { front.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			in, err := front.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer in.Close()
				out, err := tls.Dial("tcp", backend, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
				if err != nil {
					return
				}
				defer out.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
				go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
				<-done
			})
		}
	})
}

// browserRig is the site, the emulators and a browser.
type browserRig struct {
	site, tenantURL string
	tenant          *qliktest.Cloud
	proxy           *qliktest.QSEoW
	ctx             context.Context
}

// rigOptions say how the browser and the tenant are set up.
type rigOptions struct {
	allowThirdPartyCookies bool // the browser keeps the tenant's cookies on the site's page
	unlistedOrigin         bool // the tenant's web integration does not list the site's origin
	oauthUnlistedOrigin    bool // the OAuth client does not list the site's origin
}

func newBrowserRig(t *testing.T, o rigOptions) *browserRig {
	t.Helper()
	exe := chromium(t)
	c := newTestCA(t, siteHost, tenantHost)
	siteLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	frontLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &browserRig{
		site:      "https://" + siteHost + ":" + port(siteLn),
		tenantURL: "https://" + tenantHost + ":" + port(frontLn),
	}

	origins := []string{r.site}
	if o.unlistedOrigin {
		origins = []string{"https://elsewhere.corp.test"}
	}
	r.tenant = qliktest.NewCloud(qliktest.CloudConfig{AllowedOrigins: origins})
	t.Cleanup(r.tenant.Close)
	tlsFront(t, frontLn, c, strings.TrimPrefix(r.tenant.URL, "https://"), r.tenant.ServerCertificatePEM())
	r.proxy = qliktest.NewQSEoW(qliktest.QSEoWConfig{})
	t.Cleanup(r.proxy.Close)
	cloudKey, err := qsjwt.SignerFromCrypto(r.tenant.Key)
	require.NoError(t, err)
	qseowKey, err := qsjwt.SignerFromCrypto(r.proxy.Key)
	require.NoError(t, err)
	cfg := config{Origin: r.site, Tenant: r.tenant.URL, BrowserTenant: r.tenantURL, WebIntegrationID: r.tenant.WebIntegrationID,
		CloudTransport: r.tenant.Client().Transport, Proxy: r.proxy.ProxyURL, QSEoWTransport: r.proxy.Client().Transport, AppID: qliktest.SampleAppID}
	cfg.Cloud, err = qsjwt.NewCloud(cloudKey, r.tenant.Issuer, r.tenant.KeyID)
	require.NoError(t, err)
	cfg.QSEoW, err = qsjwt.NewQSEoW(qseowKey)
	require.NoError(t, err)
	var oauthOrigins []string
	if o.oauthUnlistedOrigin {
		oauthOrigins = []string{"https://elsewhere.corp.test"}
	}
	require.NoError(t, emulatedOAuth(&cfg, r.tenant, cloudKey, oauthOrigins...))
	s, err := newSite(cfg)
	require.NoError(t, err)
	srv := &http.Server{Handler: s, TLSConfig: &tls.Config{Certificates: []tls.Certificate{c.leaf}}, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)} // Chromium's probes and closed connections, not the site's errors
	go func() { _ = srv.ServeTLS(siteLn, "", "") }()
	t.Cleanup(func() { srv.Close() })

	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(profile),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", c.spki()),
	}
	// The profile's cookie setting ("Block third-party cookies", the
	// default of a fresh Debian Chromium profile) is written, not assumed;
	// when blocking, the flag of Chrome's third-party cookie phase-out is
	// added too, so that either one blocks.
	prefs := `{"profile":{"cookie_controls_mode":0,"block_third_party_cookies":false}}`
	if !o.allowThirdPartyCookies {
		prefs = `{"profile":{"cookie_controls_mode":1,"block_third_party_cookies":true}}`
		opts = append(opts, chromedp.Flag("test-third-party-cookie-phaseout", true))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(profile, "Default"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(prefs), 0o600))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "start Chromium")
	r.ctx = ctx
	return r
}

func port(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// signIn signs in with the site's form.
func (r *browserRig) signIn(t *testing.T, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(r.site+"/"),
		chromedp.WaitVisible("#user"),
		chromedp.SendKeys("#user", user),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#signin-button"),
		chromedp.WaitVisible("#app"),
	), "sign in as %s", user)
	// The page connects in proxy mode once signed in; let it finish.
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`['ready', 'error'].includes(document.getElementById('qlik-status').dataset.state)`))
	require.NoError(t, err)
}

func (r *browserRig) signOut(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin")))
}

// connect opens the page in mode and returns #qlik-status's state and text
// once it is ready or error.
func (r *browserRig) connect(t *testing.T, mode string) (state, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(r.site+"/?mode="+mode)))
	got, err := chromedp.Run(ctx, chromedp.Poll[[]string](`(() => {
		const s = document.getElementById('qlik-status');
		return s && (s.dataset.state === 'ready' || s.dataset.state === 'error') ? [s.dataset.state, s.textContent] : null;
	})()`, chromedp.WithPollingTimeout(25*time.Second)))
	require.NoError(t, err, "mode %s: #qlik-status never became ready or error", mode)
	return got[0], got[1]
}

// text returns the text of the element with id.
func (r *browserRig) text(t *testing.T, id string) string {
	t.Helper()
	s, err := chromedp.Run(r.ctx, chromedp.Evaluate[string](`document.getElementById(`+jsString(id)+`).textContent`))
	require.NoError(t, err)
	return s
}

// cookieHosts returns the domains of all the browser's cookies.
func (r *browserRig) cookieHosts(t *testing.T) []string {
	t.Helper()
	got, err := chromedp.CallBrowser(r.ctx, storage.GetCookies, storage.GetCookiesParams{})
	require.NoError(t, err)
	var hosts []string
	for _, c := range got.Cookies {
		hosts = append(hosts, c.Domain)
	}
	return hosts
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestBrowserMashup(t *testing.T) {
	start := time.Now()
	r := newBrowserRig(t, rigOptions{})
	for _, u := range []struct{ user, password, cloudName, qseowName string }{
		{"alice", "wonderland", "Alice Adams", `EXAMPLE\alice`},
		{"bob", "builder", "Bob Berg", `EXAMPLE\bob`},
	} {
		r.signIn(t, u.user, u.password)

		state, text := r.connect(t, "proxy")
		require.Equal(t, "ready", state, text)
		assert.Contains(t, text, u.cloudName)
		assert.Equal(t, u.cloudName, r.text(t, "qlik-user"))
		assert.Contains(t, r.text(t, "qlik-rest"), u.user+"@example.com")
		assert.Contains(t, r.text(t, "qlik-engine"), qliktest.SampleAppTitle)

		// OAuth mode: the site impersonates the user; the page calls the
		// tenant with the access token, cookie-less.
		state, text = r.connect(t, "oauth")
		require.Equal(t, "ready", state, text)
		assert.Contains(t, text, u.cloudName)
		assert.Equal(t, u.cloudName, r.text(t, "qlik-user"))
		assert.Contains(t, r.text(t, "qlik-rest"), u.user+"@example.com")
		assert.Contains(t, r.text(t, "qlik-rest"), "Authorization: Bearer")
		assert.Contains(t, r.text(t, "qlik-engine"), qliktest.SampleAppTitle)

		state, text = r.connect(t, "qseow")
		require.Equal(t, "ready", state, text)
		assert.Contains(t, text, u.qseowName)
		assert.Contains(t, r.text(t, "qlik-rest"), "repository build 14.254.6")
		assert.Contains(t, r.text(t, "qlik-engine"), qliktest.SampleAppTitle)

		r.signOut(t)
	}
	assert.Equal(t, 2, r.tenant.Logins(), "one Qlik Cloud login per user, made by the site")
	assert.Equal(t, 1, r.tenant.OAuthTokensIssued("site-user-1001"), "one impersonation token for alice, from the site")
	assert.Equal(t, 1, r.tenant.OAuthTokensIssued("site-user-1002"), "and one for bob")
	for _, h := range r.cookieHosts(t) {
		assert.NotContains(t, h, tenantHost, "proxy mode leaves no Qlik cookie in the browser")
	}
	assert.Equal(t, 1, r.proxy.SessionsOpened(`EXAMPLE\alice`))
	assert.Equal(t, 1, r.proxy.SessionsOpened(`EXAMPLE\bob`))

	// Direct mode: the tenant takes the login, the browser drops its
	// cookies, and the page says why.
	r.signIn(t, "alice", "wonderland")
	before := r.tenant.Logins()
	state, text := r.connect(t, "direct")
	assert.Equal(t, "error", state, text)
	assert.Contains(t, text, "third-party cookies")
	assert.Contains(t, text, "401")
	assert.Equal(t, before+1, r.tenant.Logins(), "the tenant accepted the browser's own login")
	for _, h := range r.cookieHosts(t) {
		assert.NotContains(t, h, tenantHost, "no cookie of the tenant was kept")
	}
	t.Logf("two users in proxy, OAuth and QSEoW mode, then direct mode, in Chromium: %s", time.Since(start).Round(10*time.Millisecond))
}

// With third-party cookies allowed, direct mode works: what made it fail
// above is the blocked cookies, not the page.
func TestBrowserDirectModeNeedsThirdPartyCookies(t *testing.T) {
	r := newBrowserRig(t, rigOptions{allowThirdPartyCookies: true})
	r.signIn(t, "bob", "builder")
	state, text := r.connect(t, "direct")
	require.Equal(t, "ready", state, text)
	assert.Contains(t, text, "Bob Berg")
	assert.Contains(t, r.text(t, "qlik-engine"), qliktest.SampleAppTitle)
}

// Opened under another name (its IP address), the site sends the browser
// to its own name instead of failing with unexplained 401s.
func TestBrowserOpenedByIPIsSentToTheSitesName(t *testing.T) {
	r := newBrowserRig(t, rigOptions{})
	byIP := strings.Replace(r.site, siteHost, "127.0.0.1", 1)
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(byIP+"/"), chromedp.WaitVisible("#user")))
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.origin`))
	require.NoError(t, err)
	assert.Equal(t, r.site, loc)
}

// A tenant whose web integration does not list the page's origin refuses
// the browser's cross-origin login; the browser hides why (a CORS error),
// and the page names what to check instead of failing silently.
func TestBrowserDirectModeExplainsAnUnlistedOrigin(t *testing.T) {
	r := newBrowserRig(t, rigOptions{allowThirdPartyCookies: true, unlistedOrigin: true})
	r.signIn(t, "alice", "wonderland")
	state, text := r.connect(t, "direct")
	require.Equal(t, "error", state, text)
	assert.Contains(t, text, "could not complete the request")
	assert.Contains(t, text, "web integration "+r.tenant.WebIntegrationID)
	assert.Contains(t, text, "lists this page's origin "+r.site)
	assert.Contains(t, text, "certificate")
}

// An OAuth client that does not list the page's origin: the tenant gives
// the page's token no CORS, and the page names what to check.
func TestBrowserOAuthModeExplainsAnUnlistedOrigin(t *testing.T) {
	r := newBrowserRig(t, rigOptions{oauthUnlistedOrigin: true, unlistedOrigin: true})
	r.signIn(t, "alice", "wonderland")
	state, text := r.connect(t, "oauth")
	require.Equal(t, "error", state, text)
	assert.Contains(t, text, "GET /api/v1/users/me: the browser could not complete the request")
	assert.Contains(t, text, "lists this page's origin "+r.site+" among its allowed origins")
	assert.Equal(t, 1, r.tenant.OAuthTokensIssued("site-user-1001"), "the site got the token; the browser could not use it")
}
