package cli

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
)

// defaultAssertionExpires is the library's default assertion lifetime.
const defaultAssertionExpires = "1m"

// AssertionFlags are the flags both commands read to sign assertions.
type AssertionFlags struct {
	Tenant, ClientID, keyid, alg, exp string
	Keys                              KeyFlags
}

func (a *AssertionFlags) Add(fs *flag.FlagSet, keyRequired string) {
	fs.StringVar(&a.Tenant, "tenant", "", "the tenant's `URL`, https://<tenant>.<region>.qlikcloud.com (required)")
	fs.StringVar(&a.ClientID, "client-id", "", "the OAuth client's `ID` (required)")
	fs.StringVar(&a.keyid, "keyid", "", "header \"kid\": the `kid` of the JWK registered with the OAuth client"+keyRequired)
	fs.StringVar(&a.alg, "alg", "", "signature `algorithm`: RS256 (default for RSA keys) or RS512, or ES384 (P-384 keys)")
	fs.StringVar(&a.exp, "expires", defaultAssertionExpires, "assertion `lifetime`: 30s, 1m, 5m; at most 5m")
	a.Keys.Add(fs)
}

// Builder checks the key flags and makes the assertion Builder.
func (a *AssertionFlags) Builder(e *Env, fs *flag.FlagSet) (*qsjwt.ClientAssertion, error) {
	errs := []error{Required(fs, [2]string{"keyid", "the kid of the key registered with the OAuth client"})}
	ttl, err := Expires(a.exp)
	errs = append(errs, err, a.Keys.Check(fs))
	if a.Keys.Create {
		errs = append(errs, Usagef("--cert-create", "an assertion is signed with the key registered with the OAuth client: give it with %s (make one with qs-jwt keygen)",
			strings.TrimSuffix(keyFlagNames, " or --cert-create")))
	}
	if Given(fs, "alg") && !strings.Contains(" RS256 RS512 ES384 ", " "+a.alg+" ") {
		errs = append(errs, Usagef("--alg", "--alg %s is not accepted for a Qlik Cloud client assertion; give RS256 or RS512 (RSA key) or ES384 (P-384 key)", Quote(a.alg)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sk, err := a.Keys.Load(e)
	if err != nil {
		return nil, err
	}
	opts := []qsjwt.AssertionOption{qsjwt.WithTTL(ttl), qsjwt.WithClock(Clock)}
	if Given(fs, "alg") {
		opts = append(opts, qsjwt.WithAlgorithm(qsjwt.Algorithm(a.alg)))
	}
	b, err := qsjwt.NewClientAssertion(sk.Signer, a.ClientID, a.Tenant, a.keyid, opts...)
	if err != nil {
		return nil, LibError(err, sk.flag, nil)
	}
	return b, nil
}

func runCreateAssertion(e *Env, args []string) error {
	fs := NewFlagSet("create-assertion")
	var a AssertionFlags
	var printJWK bool
	a.Add(fs, " (required)")
	fs.BoolVar(&printJWK, "print-jwk", false, "print the public key as the JWK to register with the OAuth client (publicKeys), instead of an assertion")
	if err := e.Parse(fs, args, "create-assertion --tenant URL --client-id C --keyid K [--alg A] [--expires 1m] <key flag>",
		"Signs a Private Key JWT client assertion for a Qlik Cloud OAuth client (iss = sub = the client ID,\n"+
			"aud = https://<tenant>/oauth/token, a new UUID jti) and prints it, alone, on stdout: send it once as\n"+
			"client_assertion to POST /oauth/token. The key comes from exactly one of "+strings.TrimSuffix(keyFlagNames, " or --cert-create")+"."); err != nil {
		return err
	}
	if err := Required(fs, [2]string{"tenant", "the tenant URL"}, [2]string{"client-id", "the OAuth client's ID"}); err != nil {
		return errors.Join(err, a.Keys.Check(fs))
	}
	b, err := a.Builder(e, fs)
	if err != nil {
		return err
	}
	if printJWK {
		jwk, err := b.PublicJWK()
		if err != nil {
			return Failf(a.Keys.source, "%s", trimLib(err.Error()))
		}
		fmt.Fprintln(e.Stdout, string(jwk))
		e.Infof("The public key of kid %q (%s): add it to the OAuth client's publicKeys.", a.keyid, b.Algorithm())
		return nil
	}
	tok, err := b.Sign(context.Background())
	if err != nil {
		return LibError(err, a.Keys.source, nil)
	}
	fmt.Fprintln(e.Stdout, tok.Raw)
	e.Infof("Created a client assertion for OAuth client %q (%s, aud %s), valid until %s; send it once.",
		a.ClientID, b.Algorithm(), b.Audience(), tok.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// SecretVar reads a secret from the environment variable name, which a flag
// of kind kindVarName gave; errors name the variable only as shownVar does.
func (e *Env) SecretVar(flag, name string) (string, error) {
	if name == "" {
		return "", Usagef(flag, "%s is empty; give the name of the environment variable that holds the secret", flag)
	}
	v := strings.TrimSpace(e.Getenv(name))
	if v == "" {
		return "", Failf(flag, "%s is empty or not set; put the OAuth client's secret in it", ShownVar(flag, name))
	}
	return v, nil
}
