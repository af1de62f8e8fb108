// Command qseow-api calls the repository API of client-managed Qlik Sense
// (QSEoW), GET /<prefix>/qrs/about, as one user through a virtual proxy with
// JWT authentication, using session.QSEoWTransport: a cached Bearer token, a
// fresh xrfkey per request, and one proxy session reused for every call.
//
// With no flags it starts an emulated virtual proxy (qliktest) in process
// and calls that:
//
//	go run ./examples/qseow-api
//
// Against a real server (environment variables in brackets):
//
//	go run ./examples/qseow-api -server https://qlik.example.com -prefix jwt \
//	    -key-file privatekey.pem -user-dir EXAMPLE -user-id anna [-ca-file ca.pem]
//
// -server [QSJWT_SERVER], -prefix [QSJWT_PREFIX], -key-file [QSJWT_KEY_FILE]
// or the key itself in QSJWT_KEY, -user-id-claim / -user-dir-claim / -audience
// as set on the virtual proxy.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) { // -h printed the flags
		fmt.Fprintln(os.Stderr, "qseow-api:", err)
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
	fs := flag.NewFlagSet("qseow-api", flag.ContinueOnError)
	server := fs.String("server", os.Getenv("QSJWT_SERVER"), "QSEoW server, e.g. https://qlik.example.com; empty: an emulator in process")
	prefix := fs.String("prefix", env("QSJWT_PREFIX", "jwt"), "the JWT virtual proxy's prefix")
	keyFile := fs.String("key-file", os.Getenv("QSJWT_KEY_FILE"), "PEM private key (or the key itself in QSJWT_KEY)")
	caFile := fs.String("ca-file", "", "PEM certificates to trust for the server, when its CA is private")
	userDir := fs.String("user-dir", "EXAMPLE", "user directory")
	userID := fs.String("user-id", "anna", "user ID")
	idClaim := fs.String("user-id-claim", qsjwt.DefaultUserIDClaim, `the virtual proxy's "JWT attribute for user ID"`)
	dirClaim := fs.String("user-dir-claim", qsjwt.DefaultUserDirectoryClaim, `the virtual proxy's "JWT attribute for user directory"`)
	audience := fs.String("audience", "", `the virtual proxy's "JWT audience", if set`)
	calls := fs.Int("calls", 3, "how many times to call qrs/about (all in one session)")
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return err
	}

	var signer qsjwt.Signer
	var base http.RoundTripper
	var err error
	var emulator *qliktest.QSEoW
	if *server == "" {
		emulator = qliktest.NewQSEoW(qliktest.QSEoWConfig{Prefix: *prefix, UserIDClaim: *idClaim, UserDirectoryClaim: *dirClaim, Audience: *audience})
		defer emulator.Close()
		*server, base = emulator.URL, emulator.Client().Transport
		fmt.Fprintf(out, "emulated QSEoW virtual proxy at %s (no -server given)\n", emulator.ProxyURL)
		signer, err = qsjwt.SignerFromCrypto(emulator.Key)
	} else {
		signer, err = loadSigner(*keyFile)
		if err == nil {
			base, err = transport(*caFile)
		}
	}
	if err != nil {
		return err
	}

	opts := []qsjwt.QSEoWOption{qsjwt.WithUserIDClaim(*idClaim), qsjwt.WithUserDirectoryClaim(*dirClaim)}
	if *audience != "" {
		opts = append(opts, qsjwt.WithAudience(*audience))
	}
	q, err := qsjwt.NewQSEoW(signer, opts...)
	if err != nil {
		return err
	}
	user := qsjwt.QSEoWUser{UserDirectory: *userDir, UserID: *userID}
	proxy := strings.TrimSuffix(*server, "/") + "/" + strings.Trim(*prefix, "/")
	transport, err := session.NewQSEoWTransport(proxy, q.TokenSource(user), session.WithBaseTransport(base))
	if err != nil {
		return err
	}
	client := transport.Client()
	for i := 1; i <= *calls; i++ {
		about, err := get(ctx, client, proxy+"/qrs/about")
		if err != nil {
			return err
		}
		if i == 1 {
			fmt.Fprintf(out, "GET %s/qrs/about as %s\\%s: Qlik Sense repository %v (database %v)\n", proxy, *userDir, *userID, about["buildVersion"], about["databaseProvider"])
		}
	}
	if emulator != nil {
		fmt.Fprintf(out, "%d calls, %d proxy session(s) opened for %s\\%s\n", *calls, emulator.SessionsOpened(), *userDir, *userID)
	} else {
		fmt.Fprintf(out, "%d calls made in one proxy session\n", *calls)
	}
	return nil
}

// get calls url and decodes the JSON answer; a Qlik error is returned as a
// *session.QlikError.
func get(ctx context.Context, c *http.Client, url string) (map[string]any, error) {
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

// transport trusts the certificates in caFile besides the system's.
func transport(caFile string) (http.RoundTripper, error) {
	if caFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool}
	return t, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
