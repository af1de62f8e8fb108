package main

// This file holds the OAuth commands: create-assertion signs a Private Key
// JWT client assertion for a Qlik Cloud OAuth client; oauth-token gets an
// access token at the tenant's POST /oauth/token.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/session"
)

// defaultAssertionExpires is the library's default assertion lifetime.
const defaultAssertionExpires = "1m"

// assertionFlags are the flags both commands read to sign assertions.
type assertionFlags struct {
	tenant, clientID, keyid, alg, exp string
	keys                              keyFlags
}

func (a *assertionFlags) add(fs *flag.FlagSet, keyRequired string) {
	fs.StringVar(&a.tenant, "tenant", "", "the tenant's `URL`, https://<tenant>.<region>.qlikcloud.com (required)")
	fs.StringVar(&a.clientID, "client-id", "", "the OAuth client's `ID` (required)")
	fs.StringVar(&a.keyid, "keyid", "", "header \"kid\": the `kid` of the JWK registered with the OAuth client"+keyRequired)
	fs.StringVar(&a.alg, "alg", "", "signature `algorithm`: RS256 (default for RSA keys) or RS512, or ES384 (P-384 keys)")
	fs.StringVar(&a.exp, "expires", defaultAssertionExpires, "assertion `lifetime`: 30s, 1m, 5m; at most 5m")
	a.keys.add(fs)
}

// builder checks the key flags and makes the assertion builder.
func (a *assertionFlags) builder(e *env, fs *flag.FlagSet) (*qsjwt.ClientAssertion, error) {
	errs := []error{required(fs, [2]string{"keyid", "the kid of the key registered with the OAuth client"})}
	ttl, err := expires(a.exp)
	errs = append(errs, err, a.keys.check(fs))
	if a.keys.create {
		errs = append(errs, usagef("--cert-create", "an assertion is signed with the key registered with the OAuth client: give it with %s (make one with qs-jwt keygen)",
			strings.TrimSuffix(keyFlagNames, " or --cert-create")))
	}
	if given(fs, "alg") && !strings.Contains(" RS256 RS512 ES384 ", " "+a.alg+" ") {
		errs = append(errs, usagef("--alg", "--alg %s is not accepted for a Qlik Cloud client assertion; give RS256 or RS512 (RSA key) or ES384 (P-384 key)", quote(a.alg)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sk, err := a.keys.load(e)
	if err != nil {
		return nil, err
	}
	opts := []qsjwt.AssertionOption{qsjwt.WithTTL(ttl), qsjwt.WithClock(clock)}
	if given(fs, "alg") {
		opts = append(opts, qsjwt.WithAlgorithm(qsjwt.Algorithm(a.alg)))
	}
	b, err := qsjwt.NewClientAssertion(sk.signer, a.clientID, a.tenant, a.keyid, opts...)
	if err != nil {
		return nil, libError(err, sk.flag, nil)
	}
	return b, nil
}

func runCreateAssertion(e *env, args []string) error {
	fs := newFlagSet("create-assertion")
	var a assertionFlags
	var printJWK bool
	a.add(fs, " (required)")
	fs.BoolVar(&printJWK, "print-jwk", false, "print the public key as the JWK to register with the OAuth client (publicKeys), instead of an assertion")
	if err := e.parse(fs, args, "create-assertion --tenant URL --client-id C --keyid K [--alg A] [--expires 1m] <key flag>",
		"Signs a Private Key JWT client assertion for a Qlik Cloud OAuth client (iss = sub = the client ID,\n"+
			"aud = https://<tenant>/oauth/token, a new UUID jti) and prints it, alone, on stdout: send it once as\n"+
			"client_assertion to POST /oauth/token. The key comes from exactly one of "+strings.TrimSuffix(keyFlagNames, " or --cert-create")+"."); err != nil {
		return err
	}
	if err := required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"client-id", "the OAuth client's ID"}); err != nil {
		return errors.Join(err, a.keys.check(fs))
	}
	b, err := a.builder(e, fs)
	if err != nil {
		return err
	}
	if printJWK {
		jwk, err := b.PublicJWK()
		if err != nil {
			return failf(a.keys.source, "%s", trimLib(err.Error()))
		}
		fmt.Fprintln(e.stdout, string(jwk))
		e.infof("The public key of kid %q (%s): add it to the OAuth client's publicKeys.", a.keyid, b.Algorithm())
		return nil
	}
	tok, err := b.Sign(context.Background())
	if err != nil {
		return libError(err, a.keys.source, nil)
	}
	fmt.Fprintln(e.stdout, tok.Raw)
	e.infof("Created a client assertion for OAuth client %q (%s, aud %s), valid until %s; send it once.",
		a.clientID, b.Algorithm(), b.Audience(), tok.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

func runOAuthToken(e *env, args []string) error {
	fs := newFlagSet("oauth-token")
	var (
		a                       assertionFlags
		secretEnv, subject, uid string
		caFile                  string
		scopes                  listValue
	)
	a.add(fs, " (with a key flag)")
	fs.StringVar(&secretEnv, "client-secret-env", "", "name of the environment `variable` holding the OAuth client's secret (instead of a key)")
	fs.StringVar(&subject, "impersonate-subject", "", "get a token for the user with this `subject` (grant urn:qlik:oauth:user-impersonation)")
	fs.StringVar(&uid, "impersonate-userid", "", "get a token for the user with this Qlik user `ID`")
	fs.Var(&scopes, "scope", "`scope` to ask for, e.g. user_default; may repeat; required with impersonation")
	fs.StringVar(&caFile, "ca-file", "", "PEM `file` of CA certificates to trust besides the system's (a private or test CA)")
	if err := e.parse(fs, args, "oauth-token --tenant URL --client-id C (--client-secret-env VAR | <key flag> --keyid K) [--impersonate-subject S | --impersonate-userid U] [--scope S ...]",
		"Gets an OAuth access token from the tenant's POST /oauth/token and prints it, alone, on stdout:\n"+
			"the client's own (client_credentials), or a user's (--impersonate-*). The client authenticates with\n"+
			"its secret (--client-secret-env) or with a Private Key JWT signed by a key flag."); err != nil {
		return err
	}
	errs := []error{required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"client-id", "the OAuth client's ID"})}
	keyGiven := a.keys.create
	for _, name := range []string{"cert-privatekey-file", "cert-privatekey-env", "cert-privatekey"} {
		keyGiven = keyGiven || given(fs, name)
	}
	switch {
	case given(fs, "client-secret-env") && keyGiven:
		errs = append(errs, usagef("--client-secret-env", "give the client secret (--client-secret-env) or a key flag, not both: Qlik refuses a request with two"))
	case !given(fs, "client-secret-env") && !keyGiven:
		errs = append(errs, usagef("--client-secret-env", "the OAuth client must authenticate: give --client-secret-env VAR, or a key flag and --keyid"))
	case !keyGiven:
		for _, name := range []string{"keyid", "alg", "expires", "passphrase-env"} {
			if given(fs, name) {
				errs = append(errs, usagef("--"+name, "--%s is for a client assertion, signed with a key flag; with --client-secret-env leave it out", name))
			}
		}
	}
	if given(fs, "impersonate-subject") && given(fs, "impersonate-userid") {
		errs = append(errs, usagef("--impersonate-userid", "give --impersonate-subject or --impersonate-userid, not both"))
	}
	if (given(fs, "impersonate-subject") || given(fs, "impersonate-userid")) && len(scopes) == 0 {
		errs = append(errs, usagef("--scope", "impersonation needs explicit scopes, e.g. --scope user_default"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var cred session.OAuthOption
	if keyGiven {
		b, err := a.builder(e, fs)
		if err != nil {
			return err
		}
		cred = session.WithClientAssertion(b)
	} else {
		secret, err := e.secretVar("--client-secret-env", secretEnv)
		if err != nil {
			return err
		}
		cred = session.WithClientSecret(secret)
	}
	client, _, err := e.httpClient(caFile)
	if err != nil {
		return err
	}
	opts := []session.OAuthOption{cred, session.WithClock(clock), session.WithBaseTransport(client.Transport)}
	if len(scopes) > 0 {
		opts = append(opts, session.WithScopes(scopes...))
	}
	o, err := session.NewOAuth(a.tenant, a.clientID, opts...)
	if err != nil {
		flag := "--tenant"
		if strings.Contains(err.Error(), "client ID") {
			flag = "--client-id"
		}
		return usagef(flag, "%s", strings.TrimPrefix(err.Error(), "session: "))
	}
	var src qsjwt.TokenSource = o
	who := "the OAuth client itself"
	switch {
	case subject != "":
		src, who = o.ImpersonateSubject(subject), fmt.Sprintf("subject %s", quote(subject))
	case uid != "":
		src, who = o.ImpersonateUserID(uid), fmt.Sprintf("user ID %s", quote(uid))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := src.Token(ctx)
	if err != nil {
		var oe *session.OAuthError
		if errors.As(err, &oe) {
			return failf(oauthErrorFlag(oe, keyGiven), "%s", strings.TrimPrefix(oe.Error(), "session: "))
		}
		return failf("--tenant", "%s", strings.TrimPrefix(err.Error(), "session: "))
	}
	fmt.Fprintln(e.stdout, tok.Raw)
	e.infof("Got an access token for %s, valid until %s; send it as Authorization: Bearer.", who, tok.ExpiresAt.UTC().Format(time.RFC3339))
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

// secretVar reads a secret from the environment variable name, which a flag
// of kind kindVarName gave; errors name the variable only as shownVar does.
func (e *env) secretVar(flag, name string) (string, error) {
	if name == "" {
		return "", usagef(flag, "%s is empty; give the name of the environment variable that holds the secret", flag)
	}
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return "", failf(flag, "%s is empty or not set; put the OAuth client's secret in it", shownVar(flag, name))
	}
	return v, nil
}
