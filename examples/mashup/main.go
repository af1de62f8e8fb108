// Command mashup is a web site that embeds Qlik for its own users. The site
// has its own sign-in (a small form and the site's cookie); after it, the
// site, never the page, decides which Qlik user the browser is. The page
// reaches Qlik in one of four ways, chosen in the page:
//
//   - Qlik Cloud through the site (the default): session.Proxy keeps each
//     user's Qlik Cloud session on the server (JWT login, cookies, CSRF
//     token) and forwards the page's REST calls and engine WebSocket under
//     /qlik/cloud/. The browser holds no Qlik cookie, so it works where
//     third-party cookies are blocked (Safari, Brave, private windows).
//   - Qlik Cloud directly: the page gets a token from POST /token/cloud
//     (session.TokenHandler) and logs in to the tenant itself. This needs
//     the tenant's cookies on the page, i.e. third-party cookies; the page
//     says so when the browser drops them.
//   - Qlik Cloud with OAuth: the page gets an access token of its user
//     from POST /token/oauth (session.NewOAuthTokenHandler: the site's
//     OAuth client impersonates the user, creating it the first time) and
//     calls the tenant with Authorization: Bearer, as qlik-embed's
//     data-get-access-token callback does; the engine WebSocket takes a
//     temporary token from a token exchange. No cookie: it works where
//     third-party cookies are blocked. The OAuth client must list the
//     site's origin among its allowed origins.
//   - QSEoW through the site: the same proxy to a virtual proxy with JWT
//     authentication, under /qlik/qseow/. POST /token/qseow serves
//     @qlik/api's windowscookie getAccessToken where the QSEoW server is on
//     the site's own domain.
//
// Each mode shows the Qlik user's name, data from the REST API and the
// app's layout through the engine WebSocket; the element #qlik-status says
// data-state="ready" or data-state="error" with what to check.
//
// With no flags it starts an emulated Qlik Cloud tenant and QSEoW virtual
// proxy (qliktest) and the site in process, signs in as alice like a
// browser would, prints what happened and exits:
//
//	go run ./examples/mashup
//
// With -listen it serves the site until stopped; open the URL it prints
// (demo users alice / wonderland and bob / builder):
//
//	go run ./examples/mashup -listen localhost:8080
//	go run ./examples/mashup -listen :8080 -site-url https://www.example.com -key-file privatekey.pem \
//	    -tenant https://example.eu.qlikcloud.com -issuer example.com -keyid my-key-id -web-integration-id ID \
//	    -server https://qlik.example.com -prefix jwt -oauth-client-id ID
//
// Environment variables: QSJWT_TENANT, QSJWT_ISSUER, QSJWT_KEY_ID,
// QSJWT_WEB_INTEGRATION_ID, QSJWT_SERVER, QSJWT_PREFIX, QSJWT_KEY_FILE (or
// the key itself in QSJWT_KEY), QSJWT_APP_ID, QSJWT_OAUTH_CLIENT_ID,
// QSJWT_OAUTH_CLIENT_SECRET (the OAuth client's secret; without it the
// client authenticates with a Private Key JWT signed with the key, under
// -oauth-keyid or QSJWT_OAUTH_KEY_ID).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
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

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mashup", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to serve the site on, e.g. localhost:8080 (the demo users have fixed passwords: keep it on loopback); empty: one scripted visit against the emulators")
	siteURL := fs.String("site-url", "", "the site's public origin, e.g. https://www.example.com (default http://localhost:<port>); requests for another host name are sent there")
	tenant := fs.String("tenant", os.Getenv("QSJWT_TENANT"), "Qlik Cloud tenant URL; empty: an emulator")
	issuer := fs.String("issuer", os.Getenv("QSJWT_ISSUER"), "the identity provider's issuer")
	keyID := fs.String("keyid", os.Getenv("QSJWT_KEY_ID"), "the identity provider's key ID")
	webID := fs.String("web-integration-id", os.Getenv("QSJWT_WEB_INTEGRATION_ID"), "the tenant's web integration ID for the site's origin (direct mode)")
	server := fs.String("server", os.Getenv("QSJWT_SERVER"), "QSEoW server URL; empty: an emulator")
	prefix := fs.String("prefix", env("QSJWT_PREFIX", "jwt"), "the JWT virtual proxy's prefix")
	keyFile := fs.String("key-file", os.Getenv("QSJWT_KEY_FILE"), "PEM private key for a real tenant or server (or the key itself in QSJWT_KEY)")
	oauthClientID := fs.String("oauth-client-id", os.Getenv("QSJWT_OAUTH_CLIENT_ID"), "the tenant's OAuth impersonation client (OAuth mode; its secret in QSJWT_OAUTH_CLIENT_SECRET, or -oauth-keyid)")
	oauthKeyID := fs.String("oauth-keyid", os.Getenv("QSJWT_OAUTH_KEY_ID"), "the kid of the key (-key-file) registered with the OAuth client, for a Private Key JWT instead of a secret")
	appID := fs.String("app", env("QSJWT_APP_ID", qliktest.SampleAppID), "ID of the app the page opens over the engine WebSocket")
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" && (*tenant != "" || *server != "") {
		return errors.New("the scripted visit runs against the emulators only; add -listen localhost:8080 to serve the site for a real tenant or server")
	}

	// The site's address comes first: the emulated tenant must allow its
	// origin in its web integration.
	addr := *listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if *siteURL == "" {
		*siteURL = "http://localhost:" + port
	}
	*siteURL = strings.TrimSuffix(*siteURL, "/")

	cfg := config{Origin: *siteURL, AppID: *appID}
	var key qsjwt.Signer
	if *tenant != "" || *server != "" {
		if key, err = loadSigner(*keyFile); err != nil {
			return err
		}
	}
	var tenantEmu *qliktest.Cloud
	cloudKey := key
	if *tenant == "" {
		// Plain http with -listen: a browser does not trust the emulator's
		// test certificate. Direct mode then works only while the page and
		// the emulator share a host name (localhost).
		tenantEmu = qliktest.NewCloud(qliktest.CloudConfig{AllowedOrigins: []string{*siteURL}, PlainHTTP: *listen != ""})
		defer tenantEmu.Close()
		*tenant, *issuer, *keyID, *webID = tenantEmu.URL, tenantEmu.Issuer, tenantEmu.KeyID, tenantEmu.WebIntegrationID
		cfg.CloudTransport = tenantEmu.Client().Transport
		cloudKey, _ = qsjwt.SignerFromCrypto(tenantEmu.Key)
		if err := emulatedOAuth(&cfg, tenantEmu, cloudKey); err != nil {
			return err
		}
	} else if *oauthClientID != "" {
		cfg.OAuthClientID = *oauthClientID
		if cfg.OAuth, err = newOAuth(*tenant, *oauthClientID, os.Getenv("QSJWT_OAUTH_CLIENT_SECRET"), key, *oauthKeyID, nil); err != nil {
			return err
		}
	}
	if cfg.Cloud, err = qsjwt.NewCloud(cloudKey, *issuer, *keyID); err != nil {
		return err
	}
	cfg.Tenant, cfg.WebIntegrationID = strings.TrimSuffix(*tenant, "/"), *webID
	cfg.BrowserTenant = strings.Replace(cfg.Tenant, "://127.0.0.1:", "://localhost:", 1)

	var proxyEmu *qliktest.QSEoW
	qseowKey := key
	if *server == "" {
		proxyEmu = qliktest.NewQSEoW(qliktest.QSEoWConfig{Prefix: *prefix})
		defer proxyEmu.Close()
		*server, cfg.QSEoWTransport = proxyEmu.URL, proxyEmu.Client().Transport
		qseowKey, _ = qsjwt.SignerFromCrypto(proxyEmu.Key)
	}
	if cfg.QSEoW, err = qsjwt.NewQSEoW(qseowKey); err != nil {
		return err
	}
	cfg.Proxy = strings.TrimSuffix(*server, "/") + "/" + strings.Trim(*prefix, "/")

	s, err := newSite(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if *listen != "" {
		fmt.Fprintf(out, "serving %s (Qlik Cloud %s, QSEoW %s); sign in as alice / wonderland or bob / builder; stop with Ctrl-C\n", *siteURL, cfg.Tenant, cfg.Proxy)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
	return visit(ctx, out, "http://"+ln.Addr().String(), *siteURL, tenantEmu, proxyEmu)
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
