package online

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/internal/cli"
	"github.com/qsjwt/qsjwt/session"
)

// runOAuthToken is "qs-jwt oauth-token": it gets a Qlik Cloud OAuth access
// token for the client, or for a user it impersonates, and prints it.
func runOAuthToken(e *cli.Env, args []string) error {
	fs := cli.NewFlagSet("oauth-token")
	var (
		a                       cli.AssertionFlags
		secretEnv, subject, uid string
		caFile                  string
		scopes                  cli.ListValue
	)
	a.Add(fs, " (with a key flag)")
	fs.StringVar(&secretEnv, "client-secret-env", "", "name of the environment `variable` holding the OAuth client's secret (instead of a key)")
	fs.StringVar(&subject, "impersonate-subject", "", "get a token for the user with this `subject` (grant urn:qlik:oauth:user-impersonation)")
	fs.StringVar(&uid, "impersonate-userid", "", "get a token for the user with this Qlik user `ID`")
	fs.Var(&scopes, "scope", "`scope` to ask for, e.g. user_default; may repeat; required with impersonation")
	fs.StringVar(&caFile, "ca-file", "", "PEM `file` of CA certificates to trust besides the system's (a private or test CA)")
	if err := e.Parse(fs, args, "oauth-token --tenant URL --client-id C (--client-secret-env VAR | <key flag> --keyid K) [--impersonate-subject S | --impersonate-userid U] [--scope S ...]",
		"Gets an OAuth access token from the tenant's POST /oauth/token and prints it, alone, on stdout:\n"+
			"the client's own (client_credentials), or a user's (--impersonate-*). The client authenticates with\n"+
			"its secret (--client-secret-env) or with a Private Key JWT signed by a key flag."); err != nil {
		return err
	}
	errs := []error{cli.Required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"client-id", "the OAuth client's ID"})}
	keyGiven := a.Keys.Create
	for _, name := range []string{"cert-privatekey-file", "cert-privatekey-env", "cert-privatekey"} {
		keyGiven = keyGiven || cli.Given(fs, name)
	}
	switch {
	case cli.Given(fs, "client-secret-env") && keyGiven:
		errs = append(errs, cli.Usagef("--client-secret-env", "give the client secret (--client-secret-env) or a key flag, not both: Qlik refuses a request with two"))
	case !cli.Given(fs, "client-secret-env") && !keyGiven:
		errs = append(errs, cli.Usagef("--client-secret-env", "the OAuth client must authenticate: give --client-secret-env VAR, or a key flag and --keyid"))
	case !keyGiven:
		for _, name := range []string{"keyid", "alg", "expires", "passphrase-env"} {
			if cli.Given(fs, name) {
				errs = append(errs, cli.Usagef("--"+name, "--%s is for a client assertion, signed with a key flag; with --client-secret-env leave it out", name))
			}
		}
	}
	if cli.Given(fs, "impersonate-subject") && cli.Given(fs, "impersonate-userid") {
		errs = append(errs, cli.Usagef("--impersonate-userid", "give --impersonate-subject or --impersonate-userid, not both"))
	}
	if (cli.Given(fs, "impersonate-subject") || cli.Given(fs, "impersonate-userid")) && len(scopes) == 0 {
		errs = append(errs, cli.Usagef("--scope", "impersonation needs explicit scopes, e.g. --scope user_default"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var cred session.OAuthOption
	if keyGiven {
		b, err := a.Builder(e, fs)
		if err != nil {
			return err
		}
		cred = session.WithClientAssertion(b)
	} else {
		secret, err := e.SecretVar("--client-secret-env", secretEnv)
		if err != nil {
			return err
		}
		cred = session.WithClientSecret(secret)
	}
	client, _, err := httpClient(e, caFile)
	if err != nil {
		return err
	}
	opts := []session.OAuthOption{cred, session.WithClock(cli.Clock), session.WithBaseTransport(client.Transport)}
	if len(scopes) > 0 {
		opts = append(opts, session.WithScopes(scopes...))
	}
	o, err := session.NewOAuth(a.Tenant, a.ClientID, opts...)
	if err != nil {
		flag := "--tenant"
		if strings.Contains(err.Error(), "client ID") {
			flag = "--client-id"
		}
		return cli.Usagef(flag, "%s", strings.TrimPrefix(err.Error(), "session: "))
	}
	var src qsjwt.TokenSource = o
	who := "the OAuth client itself"
	switch {
	case subject != "":
		src, who = o.ImpersonateSubject(subject), fmt.Sprintf("subject %s", cli.Quote(subject))
	case uid != "":
		src, who = o.ImpersonateUserID(uid), fmt.Sprintf("user ID %s", cli.Quote(uid))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := src.Token(ctx)
	if err != nil {
		var oe *session.OAuthError
		if errors.As(err, &oe) {
			return cli.Failf(oauthErrorFlag(oe, keyGiven), "%s", strings.TrimPrefix(oe.Error(), "session: "))
		}
		return cli.Failf("--tenant", "%s", strings.TrimPrefix(err.Error(), "session: "))
	}
	fmt.Fprintln(e.Stdout, tok.Raw)
	e.Infof("Got an access token for %s, valid until %s; send it as Authorization: Bearer.", who, tok.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// oauthErrorFlag names the flag that most likely fixes Qlik's refusal.
func oauthErrorFlag(oe *session.OAuthError, keyGiven bool) string {
	switch oe.Code {
	case "invalid_client":
		if keyGiven {
			return "--keyid"
		}
		return "--client-secret-env"
	case "invalid_scope":
		return "--scope"
	case "invalid_grant":
		return "--impersonate-subject"
	}
	return "--client-id"
}
