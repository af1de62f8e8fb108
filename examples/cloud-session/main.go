// Command cloud-session logs a user in to Qlik Cloud with a JWT and works in
// the session with session.Cloud: one POST /login/jwt-session, the
// session cookies kept, GET /api/v1/users/me, and the engine WebSocket URL of
// an app (with the CSRF token from GET /api/v1/csrf-token).
//
// With no flags it starts an emulated tenant (qliktest) in process and logs
// in there:
//
//	go run ./examples/cloud-session
//
// Against a real tenant whose JWT identity provider has your certificate
// (environment variables in brackets):
//
//	go run ./examples/cloud-session -tenant https://example.eu.qlikcloud.com \
//	    -issuer example.com -keyid my-key-id -key-file privatekey.pem \
//	    -subject anna-42 -name "Anna Andersson" -email anna@example.com
//
// -tenant [QSJWT_TENANT], -issuer [QSJWT_ISSUER], -keyid [QSJWT_KEY_ID],
// -key-file [QSJWT_KEY_FILE] or the key itself in QSJWT_KEY.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) { // -h printed the flags
		fmt.Fprintln(os.Stderr, "cloud-session:", err)
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
	fs := flag.NewFlagSet("cloud-session", flag.ContinueOnError)
	tenant := fs.String("tenant", os.Getenv("QSJWT_TENANT"), "tenant URL, e.g. https://example.eu.qlikcloud.com; empty: an emulator in process")
	issuer := fs.String("issuer", os.Getenv("QSJWT_ISSUER"), "the identity provider's issuer")
	keyID := fs.String("keyid", os.Getenv("QSJWT_KEY_ID"), "the identity provider's key ID")
	keyFile := fs.String("key-file", os.Getenv("QSJWT_KEY_FILE"), "PEM private key (or the key itself in QSJWT_KEY)")
	subject := fs.String("subject", "anna-42", "the user's stable key in your system (sub)")
	name := fs.String("name", "Anna Andersson", "the user's display name")
	email := fs.String("email", "anna@example.com", "the user's e-mail address")
	app := fs.String("app", "00000000-0000-0000-0000-000000000000", "app ID for the engine WebSocket URL")
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return err
	}

	var signer qsjwt.Signer
	var base http.RoundTripper
	var err error
	var emulator *qliktest.Cloud
	if *tenant == "" {
		emulator = qliktest.NewCloud(qliktest.CloudConfig{})
		defer emulator.Close()
		*tenant, *issuer, *keyID, base = emulator.URL, emulator.Issuer, emulator.KeyID, emulator.Client().Transport
		fmt.Fprintf(out, "emulated Qlik Cloud tenant at %s (no -tenant given)\n", emulator.URL)
		signer, err = qsjwt.SignerFromCrypto(emulator.Key)
	} else {
		signer, err = loadSigner(*keyFile)
	}
	if err != nil {
		return err
	}

	cloud, err := qsjwt.NewCloud(signer, *issuer, *keyID)
	if err != nil {
		return err
	}
	user := qsjwt.CloudUser{Subject: *subject, Name: *name, Email: *email, EmailVerified: true}
	// Keep one session per user for as long as the user works: Qlik Cloud
	// allows 100 logins per minute per tenant.
	sess, err := session.NewCloud(*tenant, cloud.TokenSource(user), session.WithBaseTransport(base))
	if err != nil {
		return err
	}
	if err := sess.Login(ctx); err != nil {
		return err // a *session.QlikError with Qlik's code, title and detail
	}
	fmt.Fprintf(out, "logged in to %s as %s\n", sess.Tenant(), *subject)

	client := sess.Client()
	for range 2 {
		me, err := getJSON(ctx, client, sess.Tenant()+"/api/v1/users/me")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "GET /api/v1/users/me: %v <%v>, subject %v, id %v\n", me["name"], me["email"], me["subject"], me["id"])
	}

	wsURL, header, err := sess.EngineWebSocket(ctx, *app)
	if err != nil {
		return err
	}
	u, _ := url.Parse(wsURL)
	u.RawQuery = "qlik-csrf-token=…"
	fmt.Fprintf(out, "engine WebSocket: %s with %d session cookie(s), no Authorization header\n", u, len(strings.Split(header.Get("Cookie"), "; ")))
	if emulator != nil {
		fmt.Fprintf(out, "logins: %d, CSRF token fetches: %d\n", emulator.Logins(), emulator.CSRFTokenFetches())
	}
	return nil
}

// getJSON calls url in the session and decodes the JSON answer; a Qlik
// error is returned as a *session.QlikError.
func getJSON(ctx context.Context, c *http.Client, url string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := session.CheckResponse(resp); err != nil {
		return nil, err
	}
	var v map[string]any
	return v, json.NewDecoder(resp.Body).Decode(&v)
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
