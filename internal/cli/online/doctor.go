package online

import (
	"github.com/qsjwt/qsjwt/internal/cli"

	"encoding/json"
	"flag"
	"fmt"
	"net/http"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/provision"
)

// runDoctor is "qs-jwt doctor cloud|qseow": it logs in for real with a
// token made from the key and prints a checklist naming the cause and fix of
// each failure.
func runDoctor(e *cli.Env, args []string) error {
	return variant(e, "doctor", args, runDoctorCloud, runDoctorQSEoW,
		"Logs in to Qlik for real with a token made from your key and checks every step of the session: the\n"+
			"login, the user, the CSRF token and the engine WebSocket. Each failure names its cause and its fix.\n"+
			"Run qs-jwt doctor cloud --help or qs-jwt doctor qseow --help for the flags.")
}

// printReport prints the checklist (or one JSON object) and fails when a
// check failed.
func printReport(e *cli.Env, r provision.Report, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return cli.Failf("--json", "encoding the JSON: %v", err)
		}
		fmt.Fprintf(e.Stdout, "%s\n", b)
	} else {
		fmt.Fprintf(e.Stdout, "qs-jwt doctor %s %s\n", r.Variant, r.URL)
		for _, c := range r.Checks {
			mark := "[ok]  "
			switch {
			case c.Skipped:
				mark = "[skip]"
			case !c.OK:
				mark = "[FAIL]"
			}
			fmt.Fprintf(e.Stdout, "%s %-15s %s\n", mark, c.Name, c.Detail)
			if !c.OK && !c.Skipped {
				fmt.Fprintf(e.Stdout, "       %-15s cause: %s\n       %-15s fix: %s\n", "", c.Cause, "", c.Fix)
			}
		}
	}
	if !r.OK {
		failed := 0
		for _, c := range r.Checks {
			if !c.OK && !c.Skipped {
				failed++
			}
		}
		return cli.Failf("--help", "the doctor found %d failed check(s); the checklist on stdout names each cause and fix", failed)
	}
	return nil
}

func runDoctorCloud(e *cli.Env, args []string) error {
	fs := cli.NewFlagSet("doctor cloud")
	var (
		tenant, sub, userid, username, useremail, issuer, keyid, app, caFile string
		verified, asJSON                                                     bool
		groups                                                               cli.ListValue
		keys                                                                 cli.KeyFlags
	)
	fs.StringVar(&tenant, "tenant", "", "the tenant's `URL`, https://<tenant>.<region>.qlikcloud.com (required)")
	fs.StringVar(&sub, "sub", "", "\"sub\": the user's stable `ID` in your system (required)")
	fs.StringVar(&userid, "userid", "", "the same as --sub")
	fs.StringVar(&username, "username", "", "\"name\": the user's display `name` (required)")
	fs.StringVar(&useremail, "useremail", "", "\"email\": the user's e-mail `address` (required)")
	fs.BoolVar(&verified, "useremail-verified", false, "\"email_verified\": true or false")
	fs.Var(&groups, "groups", "\"groups\": the user's `group`s; may repeat")
	fs.StringVar(&issuer, "issuer", "", "\"iss\": the identity provider's `issuer` (required)")
	fs.StringVar(&keyid, "keyid", "", "header \"kid\": the identity provider's key `ID` (required)")
	fs.StringVar(&app, "app", "", "app `ID` for the engine WebSocket (default engineData, a session without an app)")
	fs.StringVar(&caFile, "ca-file", "", "PEM `file` of CA certificates to trust besides the system's")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object: {variant, url, ok, checks[{name, ok, cause, detail, fix}]}")
	keys.Add(fs)
	if err := e.Parse(fs, args, "doctor cloud --tenant URL --sub S --username N --useremail E --issuer I --keyid K <key flag> [flags]",
		"Logs in to a Qlik Cloud tenant with a token made from the key (POST /login/jwt-session), then checks the\n"+
			"user, the e-mail, the groups, the CSRF token and the engine WebSocket. Exit 1 when a check fails."); err != nil {
		return err
	}
	if !cli.Given(fs, "sub") && cli.Given(fs, "userid") {
		sub = userid
	}
	if err := cli.Required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"username", "the user's display name"},
		[2]string{"useremail", "the user's e-mail address"}, [2]string{"issuer", "the identity provider's issuer"},
		[2]string{"keyid", "the identity provider's key ID"}); err != nil {
		return err
	}
	if sub == "" {
		return cli.Usagef("--sub", "doctor cloud needs the user's stable ID in your system (--sub)")
	}
	sk, client, err := doctorKeyAndClient(e, fs, &keys, caFile)
	if err != nil {
		return err
	}
	defer keys.Finish(e, sk)    // closes a PKCS #11 key
	ctx, cancel := sk.Context() // a PKCS #11 key's --sign-timeout bounds the run
	defer cancel()
	r := provision.DoctorCloud(ctx, provision.CloudDoctor{TenantURL: tenant, Client: client,
		Signer: sk.Signer, Issuer: issuer, KeyID: keyid, AppID: app, Now: cli.Clock,
		User: qsjwt.CloudUser{Subject: sub, Name: username, Email: useremail, EmailVerified: verified, Groups: groups}})
	return printReport(e, r, asJSON)
}

func runDoctorQSEoW(e *cli.Env, args []string) error {
	fs := cli.NewFlagSet("doctor qseow")
	var (
		server, prefix, userdir, userid, username, useremail, audience, alg string
		userIDClaim, userDirClaim, groupsClaim, origin, app, caFile         string
		asJSON                                                              bool
		groups                                                              cli.ListValue
		keys                                                                cli.KeyFlags
	)
	fs.StringVar(&server, "server", "", "the proxy's `URL`, https://<host> (required)")
	fs.StringVar(&prefix, "prefix", "", "the virtual proxy's `prefix` (required)")
	fs.StringVar(&userdir, "userdir", "", "user `directory` (required)")
	fs.StringVar(&userid, "userid", "", "user `ID` (required)")
	fs.StringVar(&username, "username", "", "user's display `name`")
	fs.StringVar(&useremail, "useremail", "", "user's e-mail `address`")
	fs.Var(&groups, "groups", "the user's `group`s; may repeat")
	fs.StringVar(&audience, "audience", "", "\"aud\": the virtual proxy's JWT audience, when it has one")
	fs.StringVar(&alg, "alg", string(qsjwt.RS256), "signature `algorithm`: RS256, RS384 or RS512")
	fs.StringVar(&userIDClaim, "userid-claim", qsjwt.DefaultUserIDClaim, "`claim` name of the user ID")
	fs.StringVar(&userDirClaim, "userdir-claim", qsjwt.DefaultUserDirectoryClaim, "`claim` name of the user directory")
	fs.StringVar(&groupsClaim, "groups-claim", qsjwt.DefaultGroupsClaim, "`claim` name of the groups")
	fs.StringVar(&origin, "origin", "", "`origin` the WebSocket upgrade sends (default the server's own); a mashup's tests the host allow list")
	fs.StringVar(&app, "app", "", "app `ID` for the engine WebSocket (default engineData)")
	fs.StringVar(&caFile, "ca-file", "", "PEM `file` of CA certificates to trust besides the system's (the site's root.pem)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object: {variant, url, ok, checks[{name, ok, cause, detail, fix}]}")
	keys.Add(fs)
	if err := e.Parse(fs, args, "doctor qseow --server URL --prefix P --userdir D --userid U <key flag> [flags]",
		"Logs in through a QSEoW virtual proxy with a token made from the key (a Bearer call), then checks the\n"+
			"session cookie, /qps/csrftoken and the engine WebSocket (cookie, CSRF token, Origin, no Bearer).\n"+
			"Exit 1 when a check fails."); err != nil {
		return err
	}
	if err := cli.Required(fs, [2]string{"server", "the proxy URL"}, [2]string{"prefix", "the virtual proxy's prefix"},
		[2]string{"userdir", "the user directory"}, [2]string{"userid", "the user ID"}); err != nil {
		return err
	}
	sk, client, err := doctorKeyAndClient(e, fs, &keys, caFile)
	if err != nil {
		return err
	}
	defer keys.Finish(e, sk)    // closes a PKCS #11 key
	ctx, cancel := sk.Context() // a PKCS #11 key's --sign-timeout bounds the run
	defer cancel()
	var aud string
	if cli.Given(fs, "audience") {
		aud = audience
	}
	r := provision.DoctorQSEoW(ctx, provision.QSEoWDoctor{ServerURL: server, Prefix: prefix, Client: client,
		Signer: sk.Signer, UserIDClaim: userIDClaim, UserDirectoryClaim: userDirClaim, GroupsClaim: groupsClaim,
		Audience: aud, Algorithm: alg, Origin: origin, AppID: app, Now: cli.Clock,
		User: qsjwt.QSEoWUser{UserDirectory: userdir, UserID: userid, Name: username, Email: useremail, Groups: groups}})
	return printReport(e, r, asJSON)
}

// doctorKeyAndClient loads the existing key a doctor signs with (it tests
// that key, so --cert-create is refused) and the HTTP client that trusts
// --ca-file.
func doctorKeyAndClient(e *cli.Env, fs *flag.FlagSet, keys *cli.KeyFlags, caFile string) (*cli.SigningKey, *http.Client, error) {
	if err := keys.Check(fs); err != nil {
		return nil, nil, err
	}
	if keys.Create {
		return nil, nil, cli.Usagef("--cert-create", "the doctor tests an existing key; give --cert-privatekey-file or --cert-privatekey-env")
	}
	sk, err := keys.Load(e)
	if err != nil {
		return nil, nil, err
	}
	client, _, err := httpClient(e, caFile)
	if err != nil {
		return nil, nil, err
	}
	return sk, client, nil
}
