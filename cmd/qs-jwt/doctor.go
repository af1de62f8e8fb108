package main

import (
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
func runDoctor(e *env, args []string) error {
	return variant(e, "doctor", args, runDoctorCloud, runDoctorQSEoW,
		"Logs in to Qlik for real with a token made from your key and checks every step of the session: the\n"+
			"login, the user, the CSRF token and the engine WebSocket. Each failure names its cause and its fix.\n"+
			"Run qs-jwt doctor cloud --help or qs-jwt doctor qseow --help for the flags.")
}

// printReport prints the checklist (or one JSON object) and fails when a
// check failed.
func printReport(e *env, r provision.Report, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return failf("--json", "encoding the JSON: %v", err)
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		fmt.Fprintf(e.stdout, "qs-jwt doctor %s %s\n", r.Variant, r.URL)
		for _, c := range r.Checks {
			mark := "[ok]  "
			switch {
			case c.Skipped:
				mark = "[skip]"
			case !c.OK:
				mark = "[FAIL]"
			}
			fmt.Fprintf(e.stdout, "%s %-15s %s\n", mark, c.Name, c.Detail)
			if !c.OK && !c.Skipped {
				fmt.Fprintf(e.stdout, "       %-15s cause: %s\n       %-15s fix: %s\n", "", c.Cause, "", c.Fix)
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
		return failf("--help", "the doctor found %d failed check(s); the checklist on stdout names each cause and fix", failed)
	}
	return nil
}

func runDoctorCloud(e *env, args []string) error {
	fs := newFlagSet("doctor cloud")
	var (
		tenant, sub, userid, username, useremail, issuer, keyid, app, caFile string
		verified, asJSON                                                     bool
		groups                                                               listValue
		keys                                                                 keyFlags
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
	keys.add(fs)
	if err := e.parse(fs, args, "doctor cloud --tenant URL --sub S --username N --useremail E --issuer I --keyid K <key flag> [flags]",
		"Logs in to a Qlik Cloud tenant with a token made from the key (POST /login/jwt-session), then checks the\n"+
			"user, the e-mail, the groups, the CSRF token and the engine WebSocket. Exit 1 when a check fails."); err != nil {
		return err
	}
	if !given(fs, "sub") && given(fs, "userid") {
		sub = userid
	}
	if err := required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"username", "the user's display name"},
		[2]string{"useremail", "the user's e-mail address"}, [2]string{"issuer", "the identity provider's issuer"},
		[2]string{"keyid", "the identity provider's key ID"}); err != nil {
		return err
	}
	if sub == "" {
		return usagef("--sub", "doctor cloud needs the user's stable ID in your system (--sub)")
	}
	sk, client, err := e.doctorKeyAndClient(fs, &keys, caFile)
	if err != nil {
		return err
	}
	defer keys.finish(e, sk)    // closes a PKCS #11 key
	ctx, cancel := sk.context() // a PKCS #11 key's --sign-timeout bounds the run
	defer cancel()
	r := provision.DoctorCloud(ctx, provision.CloudDoctor{TenantURL: tenant, Client: client,
		Signer: sk.signer, Issuer: issuer, KeyID: keyid, AppID: app, Now: clock,
		User: qsjwt.CloudUser{Subject: sub, Name: username, Email: useremail, EmailVerified: verified, Groups: groups}})
	return printReport(e, r, asJSON)
}

func runDoctorQSEoW(e *env, args []string) error {
	fs := newFlagSet("doctor qseow")
	var (
		server, prefix, userdir, userid, username, useremail, audience, alg string
		userIDClaim, userDirClaim, groupsClaim, origin, app, caFile         string
		asJSON                                                              bool
		groups                                                              listValue
		keys                                                                keyFlags
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
	keys.add(fs)
	if err := e.parse(fs, args, "doctor qseow --server URL --prefix P --userdir D --userid U <key flag> [flags]",
		"Logs in through a QSEoW virtual proxy with a token made from the key (a Bearer call), then checks the\n"+
			"session cookie, /qps/csrftoken and the engine WebSocket (cookie, CSRF token, Origin, no Bearer).\n"+
			"Exit 1 when a check fails."); err != nil {
		return err
	}
	if err := required(fs, [2]string{"server", "the proxy URL"}, [2]string{"prefix", "the virtual proxy's prefix"},
		[2]string{"userdir", "the user directory"}, [2]string{"userid", "the user ID"}); err != nil {
		return err
	}
	sk, client, err := e.doctorKeyAndClient(fs, &keys, caFile)
	if err != nil {
		return err
	}
	defer keys.finish(e, sk)    // closes a PKCS #11 key
	ctx, cancel := sk.context() // a PKCS #11 key's --sign-timeout bounds the run
	defer cancel()
	var aud string
	if given(fs, "audience") {
		aud = audience
	}
	r := provision.DoctorQSEoW(ctx, provision.QSEoWDoctor{ServerURL: server, Prefix: prefix, Client: client,
		Signer: sk.signer, UserIDClaim: userIDClaim, UserDirectoryClaim: userDirClaim, GroupsClaim: groupsClaim,
		Audience: aud, Algorithm: alg, Origin: origin, AppID: app, Now: clock,
		User: qsjwt.QSEoWUser{UserDirectory: userdir, UserID: userid, Name: username, Email: useremail, Groups: groups}})
	return printReport(e, r, asJSON)
}

// doctorKeyAndClient loads the existing key a doctor signs with (it tests
// that key, so --cert-create is refused) and the HTTP client that trusts
// --ca-file.
func (e *env) doctorKeyAndClient(fs *flag.FlagSet, keys *keyFlags, caFile string) (*signingKey, *http.Client, error) {
	if err := keys.check(fs); err != nil {
		return nil, nil, err
	}
	if keys.create {
		return nil, nil, usagef("--cert-create", "the doctor tests an existing key; give --cert-privatekey-file or --cert-privatekey-env")
	}
	sk, err := keys.load(e)
	if err != nil {
		return nil, nil, err
	}
	client, _, err := e.httpClient(caFile)
	if err != nil {
		return nil, nil, err
	}
	return sk, client, nil
}
