package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// Default lifetimes of the create commands. QSEoW's is the library's one
// hour; Qlik Cloud's the library's five minutes: the session cookie Qlik
// returns does not depend on exp.
const (
	defaultQSEoWExpires = "60m"
	defaultCloudExpires = "5m"
)

// Required returns a usage error for each flag that was not given; each
// pair is a flag's name and what it gives, for the error.
func Required(fs *flag.FlagSet, flags ...[2]string) error {
	var errs []error
	for _, f := range flags {
		if !Given(fs, f[0]) {
			errs = append(errs, Usagef("--"+f[0], "%s needs %s", fs.Name(), f[1]))
		}
	}
	return errors.Join(errs...)
}

// Expires reads --Expires.
func Expires(s string) (time.Duration, error) {
	d, err := parseExpires(s)
	if err != nil {
		return 0, Usagef("--expires", "%v", err)
	}
	return d, nil
}

// parseClaims reads --claim name=value values into token attributes. A name
// given more than once becomes a list of strings.
func parseClaims(values []string) (map[string]any, error) {
	if len(values) == 0 {
		return nil, nil
	}
	attrs := map[string]any{}
	var order []string
	lists := map[string][]string{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, Usagef("--claim", "--claim %q is not name=value, e.g. --claim department=Sales", v)
		}
		if _, seen := lists[name]; !seen {
			order = append(order, name)
		}
		lists[name] = append(lists[name], value)
	}
	for _, name := range order {
		if l := lists[name]; len(l) == 1 {
			attrs[name] = l[0]
		} else {
			attrs[name] = l
		}
	}
	return attrs, nil
}

func runCreateQSEoW(e *Env, args []string) error {
	fs := NewFlagSet("create-qseow")
	var (
		userdir, userid, username, useremail, audience, alg, exp string
		userIDClaim, userDirClaim, groupsClaim                   string
		groups, claims                                           ListValue
		keys                                                     KeyFlags
	)
	fs.StringVar(&userdir, "userdir", "", "user `directory`, e.g. MYDIR (required)")
	fs.StringVar(&userid, "userid", "", "user `ID`, e.g. anna (required)")
	fs.StringVar(&username, "username", "", "user's display `name`, written as \"name\"")
	fs.StringVar(&useremail, "useremail", "", "user's e-mail `address`, written as \"email\"")
	fs.Var(&groups, "groups", "the user's `group`s: --groups g1 \"group 2\"; may repeat")
	fs.StringVar(&audience, "audience", "", "\"aud\": the virtual proxy's JWT audience, when it has one")
	fs.StringVar(&exp, "expires", defaultQSEoWExpires, "`lifetime`: 90s, 15m, 1h30m, 2d, 1w, 1y (a bare number is refused)")
	fs.StringVar(&alg, "alg", string(qsjwt.RS256), "signature `algorithm`: RS256, RS384 or RS512")
	fs.StringVar(&userIDClaim, "userid-claim", qsjwt.DefaultUserIDClaim, "`claim` name of the user ID: the virtual proxy's \"JWT attribute for user ID\"")
	fs.StringVar(&userDirClaim, "userdir-claim", qsjwt.DefaultUserDirectoryClaim, "`claim` name of the user directory: the virtual proxy's \"JWT attribute for user directory\"")
	fs.StringVar(&groupsClaim, "groups-claim", qsjwt.DefaultGroupsClaim, "`claim` name of the groups, as the virtual proxy's attribute mapping reads it")
	fs.Var(&claims, "claim", "further claim `name=value` for attribute mapping; may repeat; a name given twice makes a list")
	keys.Add(fs)
	if err := e.Parse(fs, args, "create-qseow --userdir D --userid U [flags] <key flag>",
		"Creates a JWT for a client-managed Qlik Sense (QSEoW) virtual proxy with JWT authentication and\n"+
			"prints it, alone, on stdout. The signing key comes from exactly one of "+keyFlagNames+"."); err != nil {
		return err
	}
	err := Required(fs, [2]string{"userdir", "the user directory"}, [2]string{"userid", "the user ID"})
	ttl, terr := Expires(exp)
	attrs, cerr := parseClaims(claims)
	if err := errors.Join(err, terr, cerr, keys.Check(fs)); err != nil {
		return err
	}

	sk, err := keys.Load(e)
	if err != nil {
		return err
	}
	opts := []qsjwt.QSEoWOption{qsjwt.WithTTL(ttl), qsjwt.WithClock(Clock),
		qsjwt.WithAlgorithm(qsjwt.Algorithm(alg)), qsjwt.WithUserIDClaim(userIDClaim),
		qsjwt.WithUserDirectoryClaim(userDirClaim), qsjwt.WithGroupsClaim(groupsClaim)}
	if Given(fs, "audience") { // without it the token has no "aud"; given empty, the library refuses it
		opts = append(opts, qsjwt.WithAudience(audience))
	}
	q, err := qsjwt.NewQSEoW(sk.Signer, opts...)
	if err != nil {
		return sk.explain(err, qsjwt.Algorithm(alg), nil)
	}
	ctx, cancel := sk.Context()
	defer cancel()
	tok, err := q.Sign(ctx, qsjwt.QSEoWUser{UserDirectory: userdir, UserID: userid,
		Name: username, Email: useremail, Groups: groups, Attributes: attrs})
	if err != nil {
		return sk.explain(err, q.Algorithm(), nil)
	}
	if err := keys.Finish(e, sk); err != nil {
		return err
	}
	fmt.Fprintln(e.Stdout, tok.Raw)
	e.Infof("Created a QSEoW token for %s\\%s (%s), valid until %s.", userdir, userid, q.Algorithm(), tok.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

func runCreateCloud(e *Env, args []string) error {
	fs := NewFlagSet("create-qscloud")
	var (
		sub, userid, username, useremail, issuer, keyid, exp string
		verified                                             bool
		groups                                               ListValue
		keys                                                 KeyFlags
	)
	fs.StringVar(&sub, "sub", "", "\"sub\": the user's stable `ID` in your system; a new sub is a new Qlik user (required)")
	fs.StringVar(&userid, "userid", "", "the same as --sub (for scripts that used the Node tool's name)")
	fs.StringVar(&username, "username", "", "\"name\": the user's display `name` (required)")
	fs.StringVar(&useremail, "useremail", "", "\"email\": the user's e-mail `address` (required)")
	fs.BoolVar(&verified, "useremail-verified", false, "\"email_verified\": true or false")
	fs.Var(&groups, "groups", "\"groups\": the user's `group`s: --groups g1 \"group 2\"; may repeat")
	fs.StringVar(&issuer, "issuer", "", "\"iss\": the identity provider's `issuer` (required)")
	fs.StringVar(&keyid, "keyid", "", "header \"kid\": the identity provider's key `ID` (required; with --cert-create, default the new key's thumbprint)")
	fs.StringVar(&exp, "expires", defaultCloudExpires, "`lifetime`: 90s, 15m, 1h30m; at most 60m")
	keys.Add(fs)
	if err := e.Parse(fs, args, "create-qscloud --sub S --username N --useremail E --issuer I --keyid K [flags] <key flag>",
		"Creates a JWT for a Qlik Cloud JWT identity provider, to exchange once at POST /login/jwt-session,\n"+
			"and prints it, alone, on stdout. The signing key comes from exactly one of "+keyFlagNames+"."); err != nil {
		return err
	}

	subFlag := "--sub"
	var errs []error
	switch {
	case Given(fs, "sub") && Given(fs, "userid") && sub != userid:
		errs = append(errs, Usagef("--userid", "--sub and --userid are the same claim and differ; give one"))
	case !Given(fs, "sub") && Given(fs, "userid"):
		sub, subFlag = userid, "--userid"
	case !Given(fs, "sub"):
		errs = append(errs, Usagef("--sub", "create-qscloud needs the user's stable ID in your system; Qlik Cloud stores it, and a new sub is a new user (the Node tool made a random one per token)"))
	}
	errs = append(errs, Required(fs, [2]string{"username", "the user's display name"},
		[2]string{"useremail", "the user's e-mail address"}, [2]string{"issuer", "the identity provider's issuer"}))
	if !keys.Create {
		errs = append(errs, Required(fs, [2]string{"keyid", "the identity provider's key ID"}))
	}
	ttl, err := Expires(exp)
	errs = append(errs, err, keys.Check(fs))
	if err := errors.Join(errs...); err != nil {
		return err
	}

	sk, err := keys.Load(e)
	if err != nil {
		return err
	}
	if !Given(fs, "keyid") && sk.made != nil {
		keyid = sk.made.kid
	}
	c, err := qsjwt.NewCloud(sk.Signer, issuer, keyid,
		qsjwt.WithTTL(ttl), qsjwt.WithNotBeforeSkew(notBeforeSkew(ttl)), qsjwt.WithClock(Clock))
	if err != nil {
		return sk.explain(err, qsjwt.RS256, nil)
	}
	ctx, cancel := sk.Context()
	defer cancel()
	tok, err := c.Sign(ctx, qsjwt.CloudUser{Subject: sub, Name: username, Email: useremail,
		EmailVerified: verified, Groups: groups})
	if err != nil {
		return sk.explain(err, qsjwt.RS256, map[string]string{"--sub": subFlag})
	}
	if err := keys.Finish(e, sk); err != nil {
		return err
	}
	fmt.Fprintln(e.Stdout, tok.Raw)
	e.Infof("Created a Qlik Cloud token for sub %q (issuer %q, key ID %q), valid until %s; exchange it once at POST https://<tenant>/login/jwt-session.",
		sub, issuer, keyid, tok.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// notBeforeSkew is how far nbf lies before iat: the library's default (5 s),
// shortened so that --expires 60m still fits Qlik Cloud's limit on
// exp - nbf. A longer lifetime keeps the default and is refused by the
// library, naming --expires.
func notBeforeSkew(ttl time.Duration) time.Duration {
	if ttl > qsjwt.CloudMaxLifetime {
		return qsjwt.DefaultNotBeforeSkew
	}
	return min(qsjwt.DefaultNotBeforeSkew, qsjwt.CloudMaxLifetime-ttl)
}
