package online

import (
	"github.com/qsjwt/qsjwt/internal/cli"

	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/provision"
)

// runSetup is "qs-jwt setup cloud|qseow": it sets Qlik up for JWT logins
// through Qlik's admin APIs, idempotently, printing each step.
func runSetup(e *cli.Env, args []string) error {
	return variant(e, "setup", args, runSetupCloud, runSetupQSEoW,
		"Sets Qlik up for JWT logins: a Qlik Cloud JWT identity provider (setup cloud) or a QSEoW virtual\n"+
			"proxy with JWT authentication linked to every proxy service (setup qseow). Run qs-jwt setup cloud --help\n"+
			"or qs-jwt setup qseow --help for the flags.")
}

// variant dispatches "<command> cloud|qseow [flags]".
func variant(e *cli.Env, name string, args []string, cloud, qseow func(*cli.Env, []string) error, about string) error {
	if len(args) == 0 {
		return cli.Usagef("--help", "%s needs a variant: qs-jwt %s cloud|qseow [flags]", name, name)
	}
	switch args[0] {
	case "cloud":
		return cloud(e, args[1:])
	case "qseow":
		return qseow(e, args[1:])
	case "--help", "-help", "-h", "help":
		fmt.Fprintf(e.Stdout, "Usage: qs-jwt %s cloud|qseow [flags]\n\n%s\n", name, about)
		return cli.ErrHelp
	}
	return cli.Usagef("--help", "%s: unknown variant %q; give cloud or qseow", name, args[0])
}

// httpClient returns a client trusting the certificates of --ca-file as
// well as the system's (none given: the system's alone).
func httpClient(e *cli.Env, caFile string) (*http.Client, *x509.CertPool, error) {
	if caFile == "" {
		return &http.Client{}, nil, nil
	}
	data, err := e.ReadInput("--ca-file", caFile)
	if err != nil {
		return nil, nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, nil, cli.Failf("--ca-file", "%s holds no PEM certificate; give the CA certificate(s) to trust", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, pool, nil
}

// readCert reads the certificate of --cert-file.
func readCert(e *cli.Env, path string) (*x509.Certificate, error) {
	data, err := e.ReadInput("--cert-file", path)
	if err != nil {
		return nil, err
	}
	cert, err := qsjwt.ParseCertificate(data)
	if err != nil {
		return nil, cli.LibError(err, "--cert-file", nil)
	}
	return cert, nil
}

// setupOutput flags are shared by both variants.
type setupOutput struct {
	dryRun, json bool
	caFile       string
}

func (o *setupOutput) add(fs *flag.FlagSet) {
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing")
	fs.BoolVar(&o.json, "json", false, "print one JSON object: {dryRun, changes, steps[{action, object, name, detail, done}]}")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM `file` of CA certificates to trust besides the system's (a private or test CA)")
}

// finish applies the plan unless --dry-run and prints it.
func (o *setupOutput) finish(e *cli.Env, p *provision.Plan, flag string) error {
	var err error
	if !o.dryRun {
		err = p.Apply(context.Background())
	}
	if o.json {
		b, jerr := json.Marshal(struct {
			DryRun  bool             `json:"dryRun"`
			Changes int              `json:"changes"`
			Steps   []provision.Step `json:"steps"`
			Error   string           `json:"error,omitempty"`
		}{o.dryRun, p.Changes(), p.Steps, errString(err)})
		if jerr != nil {
			return cli.Failf(flag, "encoding the JSON: %v", jerr)
		}
		fmt.Fprintf(e.Stdout, "%s\n", b)
	} else {
		for _, s := range p.Steps {
			mark := s.Action
			switch {
			case s.Action == provision.ActionKeep:
			case o.dryRun:
				mark = "would " + s.Action
			case !s.Done:
				mark = "NOT DONE " + s.Action
			}
			fmt.Fprintf(e.Stdout, "%-16s %s %s: %s\n", mark, s.Object, s.Name, s.Detail)
		}
		switch {
		case o.dryRun:
			e.Infof("Dry run: %d change(s) planned, none made.", p.Changes())
		case err == nil:
			e.Infof("%d change(s) made.", p.Changes())
		}
	}
	if err != nil {
		return cli.Failf(flag, "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// adminSecret reads an admin credential from the environment variable named
// by flag, never from the command line.
func adminSecret(e *cli.Env, flag, name string) (string, error) {
	if name == "" {
		return "", cli.Usagef(flag, "%s is empty; give the name of the environment variable that holds the credential", flag)
	}
	v := strings.TrimSpace(e.Getenv(name))
	if v == "" {
		return "", cli.Failf(flag, "environment variable %s is empty or not set; put the tenant admin's API key in it", name)
	}
	return v, nil
}

func runSetupCloud(e *cli.Env, args []string) error {
	fs := cli.NewFlagSet("setup cloud")
	var (
		tenant, keyEnv, issuer, keyid, certFile, desc, retire, webInt string
		licence                                                       string
		rotate, groups                                                bool
		origins, csp                                                  cli.ListValue
		out                                                           setupOutput
	)
	fs.StringVar(&tenant, "tenant", "", "the tenant's `URL`, https://<tenant>.<region>.qlikcloud.com (required)")
	fs.StringVar(&keyEnv, "api-key-env", "QLIK_API_KEY", "name of the environment `variable` holding a tenant admin's API key")
	fs.StringVar(&issuer, "issuer", "", "the `issuer` your tokens carry in \"iss\" (required)")
	fs.StringVar(&keyid, "keyid", "", "the key `ID` your tokens carry in \"kid\" (default: the certificate key's RFC 7638 thumbprint)")
	fs.StringVar(&certFile, "cert-file", "", "the certificate `file` of the signing key (publickey.cer) (required)")
	fs.StringVar(&desc, "description", "", "the identity provider's `description`")
	fs.BoolVar(&rotate, "rotate", false, "add a second identity provider for a new --keyid while the issuer's old one stays")
	fs.StringVar(&retire, "retire-old", "", "delete the identity provider of this key `ID` (after switching signing to --keyid)")
	fs.BoolVar(&groups, "auto-create-groups", false, "turn group creation at login on, so that the groups claim reaches Qlik")
	fs.Var(cli.Choice(&licence, "analyzer", "professional"), "auto-assign-licenses",
		"assign `type` licences (analyzer or professional) to users at first login")
	fs.StringVar(&webInt, "web-integration", "", "`name` of a web integration for --origin (browser mashups)")
	fs.Var(&origins, "origin", "exact `origin` (https://host[:port]) the web integration allows; may repeat; no wildcards")
	fs.Var(&csp, "csp-origin", "`origin` to add to the Content Security Policy (frame-ancestors) for iframe embeds; may repeat")
	out.add(fs)
	if err := e.Parse(fs, args, "setup cloud --tenant URL --issuer I --cert-file F [--keyid K] [--api-key-env VAR] [flags]",
		"Creates the Qlik Cloud JWT identity provider for a key, through the tenant's API as a tenant admin, unless\n"+
			"the tenant already has it (same issuer, key ID and certificate). Prints each step; --dry-run changes nothing."); err != nil {
		return err
	}
	if err := cli.Required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"issuer", "the issuer your tokens carry"},
		[2]string{"cert-file", "the certificate file of the signing key"}); err != nil {
		return err
	}
	if (webInt == "") != (len(origins) == 0) {
		return cli.Usagef("--web-integration", "--web-integration and --origin go together: name the web integration and give its origins")
	}
	apiKey, err := adminSecret(e, "--api-key-env", keyEnv)
	if err != nil {
		return err
	}
	cert, err := readCert(e, certFile)
	if err != nil {
		return err
	}
	if !cli.Given(fs, "keyid") {
		if keyid, err = qsjwt.Thumbprint(cert.PublicKey); err != nil {
			return cli.LibError(err, "--cert-file", nil)
		}
	}
	client, _, err := httpClient(e, out.caFile)
	if err != nil {
		return err
	}
	c, err := provision.NewCloud(tenant, apiKey, client)
	if err != nil {
		return cli.Failf("--tenant", "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	p, err := c.Plan(context.Background(), provision.CloudSetup{Issuer: issuer, KeyID: keyid, Certificate: cert, Description: desc,
		Rotate: rotate, RetireKeyID: retire, AutoCreateGroups: groups, AutoAssignLicense: licence, WebIntegration: webInt, Origins: origins, CSPOrigins: csp})
	if err != nil {
		return cli.Failf(cloudFlag(err), "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	return out.finish(e, p, "--tenant")
}

// cloudFlag names the flag that fixes a planning error.
func cloudFlag(err error) string {
	msg := err.Error()
	var api *provision.APIError
	switch {
	case errors.Is(err, provision.ErrWildcardOrigin), strings.Contains(msg, "origin"):
		return "--origin"
	case strings.Contains(msg, "rotation"):
		return "--rotate"
	case strings.Contains(msg, "retire"):
		return "--retire-old"
	case errors.As(err, &api) && (api.Status == 401 || api.Status == 403):
		return "--api-key-env"
	}
	return "--tenant"
}

func runSetupQSEoW(e *cli.Env, args []string) error {
	fs := cli.NewFlagSet("setup qseow")
	var (
		qrs, certFile, keyFile, prefix, jwtCert, audience, desc, cookie string
		userIDClaim, userDirClaim, groupsClaim, mashup                  string
		hosts                                                           cli.ListValue
		out                                                             setupOutput
	)
	fs.StringVar(&qrs, "qrs", "", "the QRS API's `URL`, https://<central node>:4242 (required)")
	fs.StringVar(&certFile, "client-cert", "", "the exported client certificate `file` (client.pem) (required)")
	fs.StringVar(&keyFile, "client-key", "", "the exported client key `file` (client_key.pem) (required)")
	fs.StringVar(&prefix, "prefix", "", "the virtual proxy's `prefix` (required)")
	fs.StringVar(&jwtCert, "cert-file", "", "the certificate `file` of the signing key (publickey.cer): the \"JWT certificate\" (required)")
	fs.StringVar(&audience, "audience", "", "the virtual proxy's JWT `audience` (default none: aud is not checked)")
	fs.StringVar(&userIDClaim, "userid-claim", qsjwt.DefaultUserIDClaim, "`claim` the virtual proxy reads the user ID from")
	fs.StringVar(&userDirClaim, "userdir-claim", qsjwt.DefaultUserDirectoryClaim, "`claim` the virtual proxy reads the user directory from")
	fs.StringVar(&groupsClaim, "groups-claim", "", "`claim` mapped to the Sense attribute group (user.environment.group); default none")
	fs.Var(&hosts, "allow-host", "`host` for the host allow list (websocketCrossOriginWhiteList); may repeat")
	fs.StringVar(&mashup, "mashup-origin", "", "exact `origin` of a browser mashup: allowed host plus CORS response headers")
	fs.StringVar(&desc, "description", "", "the virtual proxy's `description`")
	fs.StringVar(&cookie, "session-cookie-name", "", "session cookie header `name` (default X-Qlik-Session-<prefix>; must be unique)")
	out.add(fs)
	if err := e.Parse(fs, args, "setup qseow --qrs URL --client-cert F --client-key F --prefix P --cert-file F [flags]",
		"Creates or updates the QSEoW virtual proxy of --prefix with JWT authentication through the QRS API, as\n"+
			"INTERNAL\\sa_repository with the exported client certificate, and links it to every proxy service (the\n"+
			"central one included). Prints each step; --dry-run changes nothing."); err != nil {
		return err
	}
	if err := cli.Required(fs, [2]string{"qrs", "the QRS URL"}, [2]string{"client-cert", "the client certificate file"},
		[2]string{"client-key", "the client key file"}, [2]string{"prefix", "the virtual proxy's prefix"},
		[2]string{"cert-file", "the certificate file of the signing key"}); err != nil {
		return err
	}
	cert, err := readCert(e, jwtCert)
	if err != nil {
		return err
	}
	clientCert, err := e.ReadInput("--client-cert", certFile)
	if err != nil {
		return err
	}
	clientKey, err := e.ReadInput("--client-key", keyFile)
	if err != nil {
		return err
	}
	_, pool, err := httpClient(e, out.caFile)
	if err != nil {
		return err
	}
	q, err := provision.NewQRS(qrs, clientCert, clientKey, pool)
	if err != nil {
		flag := "--client-key"
		if strings.Contains(err.Error(), "URL") {
			flag = "--qrs"
		}
		return cli.Failf(flag, "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	p, err := q.Plan(context.Background(), provision.VirtualProxy{Prefix: prefix, Description: desc, Certificate: cert,
		UserIDClaim: userIDClaim, UserDirectoryClaim: userDirClaim, Audience: audience, GroupsClaim: groupsClaim,
		AllowHosts: hosts, MashupOrigin: mashup, SessionCookieName: cookie})
	if err != nil {
		flag := "--qrs"
		switch msg := err.Error(); {
		case strings.Contains(msg, "origin"):
			flag = "--mashup-origin"
		case strings.Contains(msg, "allow-list"):
			flag = "--allow-host"
		case strings.Contains(msg, "cookie"):
			flag = "--session-cookie-name"
		case strings.Contains(msg, "prefix"):
			flag = "--prefix"
		}
		return cli.Failf(flag, "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	return out.finish(e, p, "--qrs")
}
