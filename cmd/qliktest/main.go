// Command qliktest serves the qliktest emulators of a Qlik Cloud tenant and
// a client-managed Qlik Sense (QSEoW) site on loopback, over HTTPS, until it
// is stopped (Ctrl-C, SIGTERM), so that programs in any language can set
// Qlik up and log in against them:
//
//	go run ./cmd/qliktest [--dir DIR]
//
// It prints one JSON object on one line on stdout:
//
//	{"cloud":{"url":…,"apiKey":…},"qseow":{"url":…,"qrsURL":…,"clientCert":…,"clientKey":…},"caFile":…,"appId":…}
//
// The tenant starts with no identity provider and the site with no virtual
// proxy: create them through their admin APIs (qs-jwt setup does), with the
// tenant's test API key and the site's client certificate. caFile holds the
// certificates to trust for both; appId is the app both engines hold
// (qliktest.SampleAppID), to open over the engine WebSocket. The files are
// written to --dir (a new temporary directory by default); everything in
// them is test material.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/qsjwt/qsjwt/qliktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "qliktest:", err)
		os.Exit(1)
	}
}

// Endpoints is the line printed on stdout.
type Endpoints struct {
	Cloud struct {
		URL    string `json:"url"`
		APIKey string `json:"apiKey"`
	} `json:"cloud"`
	QSEoW struct {
		URL        string `json:"url"`
		QRSURL     string `json:"qrsURL"`
		ClientCert string `json:"clientCert"`
		ClientKey  string `json:"clientKey"`
	} `json:"qseow"`
	CAFile string `json:"caFile"`
	AppID  string `json:"appId"`
}

// run serves until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("qliktest", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for caFile, clientCert and clientKey (default a new temporary directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "qliktest-")
		if err != nil {
			return err
		}
		*dir = d
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	apiKey := "qliktest-" + base64.RawURLEncoding.EncodeToString(b)

	cloud := qliktest.NewCloud(qliktest.CloudConfig{APIKey: apiKey})
	defer cloud.Close()
	site := qliktest.NewSite(qliktest.SiteConfig{})
	defer site.Close()

	var out Endpoints
	out.Cloud.URL, out.Cloud.APIKey = cloud.URL, apiKey
	out.QSEoW.URL, out.QSEoW.QRSURL = site.URL, site.QRSURL
	out.CAFile = filepath.Join(abs, "ca.pem")
	out.AppID = qliktest.SampleAppID
	out.QSEoW.ClientCert = filepath.Join(abs, "client.pem")
	out.QSEoW.ClientKey = filepath.Join(abs, "client_key.pem")
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{out.CAFile, append(append([]byte{}, site.CAPEM...), cloud.ServerCertificatePEM()...), 0o644},
		{out.QSEoW.ClientCert, site.ClientCertPEM, 0o644},
		{out.QSEoW.ClientKey, site.ClientKeyPEM, 0o600},
	} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return err
		}
	}
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", line)
	<-ctx.Done()
	return nil
}
