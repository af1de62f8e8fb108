// Command quickstart shows qsjwt end to end with no setup: it makes a
// throw-away RSA key and a self-signed certificate, signs one token for a
// client-managed Qlik Sense (QSEoW) virtual proxy and one for a Qlik Cloud
// JWT identity provider, prints each token on its own line with its header
// and claims decoded, and prints the certificate to paste into Qlik.
//
//	go run ./examples/quickstart
//
// The key lives only in memory: nothing is written to disk.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

func main() {
	if done, code := args(os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	if err := run(context.Background(), os.Stdout, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// args handles the command line: quickstart takes no flags but -h, which
// says what it does (exit 0); anything else is refused (exit 2). done
// reports whether main should exit with code instead of running.
func args(args []string, stdout, stderr io.Writer) (done bool, code int) {
	switch {
	case len(args) == 0:
		return false, 0
	case len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		fmt.Fprintln(stdout, "Usage: go run ./examples/quickstart\n\nMakes a throw-away key, signs a QSEoW and a Qlik Cloud token with it, and prints them\ndecoded with the certificate to give Qlik. It takes no flags; nothing is written to disk.")
		return true, 0
	}
	fmt.Fprintln(stderr, "quickstart: takes no arguments; run it as: go run ./examples/quickstart")
	return true, 2
}

func run(ctx context.Context, out io.Writer, now func() time.Time) error {
	// A throw-away key and the certificate Qlik verifies its tokens with.
	key, err := qsjwt.GenerateKey(qsjwt.RSA2048)
	if err != nil {
		return err
	}
	cert, err := qsjwt.SelfSignedCertificate(key, qsjwt.WithCommonName("qsjwt quickstart"))
	if err != nil {
		return err
	}
	signer, err := qsjwt.SignerFromCrypto(key)
	if err != nil {
		return err
	}
	kid, err := qsjwt.Thumbprint(key.Public())
	if err != nil {
		return err
	}

	// Client-managed Qlik Sense: the virtual proxy reads userId and
	// userDirectory (its "JWT attribute for user ID / user directory").
	q, err := qsjwt.NewQSEoW(signer, qsjwt.WithAudience("qlik-sense"), qsjwt.WithClock(now))
	if err != nil {
		return err
	}
	qtok, err := q.Sign(ctx, qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "anna", Name: "Anna Andersson",
		Email: "anna@example.com", Groups: []string{"Sales", "Analysts"}})
	if err != nil {
		return err
	}

	// Qlik Cloud: issuer and key ID as set on the tenant's JWT identity provider.
	c, err := qsjwt.NewCloud(signer, "quickstart.example.com", kid, qsjwt.WithClock(now))
	if err != nil {
		return err
	}
	ctok, err := c.Sign(ctx, qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com",
		EmailVerified: true, Groups: []string{"Sales"}})
	if err != nil {
		return err
	}

	var b bytes.Buffer // print all or nothing
	section(&b, "QSEoW token (virtual proxy: JWT attribute for user ID \"userId\", for user directory \"userDirectory\", JWT audience \"qlik-sense\")")
	fmt.Fprintln(&b, qtok.Raw)
	if err := decode(&b, qtok.Raw); err != nil {
		return err
	}
	section(&b, fmt.Sprintf("Qlik Cloud token (identity provider: issuer %q, key ID %q); exchange it at POST https://<tenant>/login/jwt-session", "quickstart.example.com", kid))
	fmt.Fprintln(&b, ctok.Raw)
	if err := decode(&b, ctok.Raw); err != nil {
		return err
	}
	section(&b, "Certificate: paste into the virtual proxy's \"JWT certificate\" field, or the identity provider's certificate (this key is thrown away on exit)")
	b.Write(qsjwt.CertificatePEM(cert))
	_, err = out.Write(b.Bytes())
	return err
}

func section(w io.Writer, title string) { fmt.Fprintf(w, "\n# %s\n", title) }

// decode prints a token's header and claims as indented JSON.
func decode(w io.Writer, raw string) error {
	parts := strings.Split(raw, ".")
	for i, name := range []string{"header", "claims"} {
		js, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, js, "", "  "); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %s\n", name, pretty.String())
	}
	return nil
}
