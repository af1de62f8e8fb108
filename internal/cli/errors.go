package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/qsjwt/qsjwt"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the work failed: a bad key, a claim Qlik would refuse, a refused token, I/O
	exitUsage  = 2 // the command line is wrong: unknown command or flag, missing flag, unreadable value
)

// cliError is one problem, printed as one line on stderr:
//
//	qs-jwt: <what is wrong> (<the flag that fixes it>)
//
// It never holds key material.
type cliError struct {
	code int
	flag string
	msg  string
}

func (e *cliError) Error() string { return fmt.Sprintf("qs-jwt: %s (%s)", e.msg, e.flag) }

// Usagef is a usage error (exit 2) fixed by flag.
func Usagef(flag, format string, args ...any) error {
	return &cliError{code: exitUsage, flag: flag, msg: fmt.Sprintf(format, args...)}
}

// Failf is a failure of the work (exit 1) fixed by flag.
func Failf(flag, format string, args ...any) error {
	return &cliError{code: exitFailed, flag: flag, msg: fmt.Sprintf(format, args...)}
}

// report prints every problem in err on its own line and returns the exit
// code: the highest of the problems' codes.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitOK
	for _, e := range flatten(err) {
		var ce *cliError
		if !errors.As(e, &ce) {
			ce = &cliError{code: exitFailed, flag: "--help", msg: trimLib(e.Error())}
		}
		fmt.Fprintln(w, safeText(oneLine(ce.Error())))
		code = max(code, ce.code)
	}
	return code
}

// flatten returns the problems in a tree of errors.Join'ed errors. An error
// that wraps several with fmt.Errorf("%w: %w") is one problem: unlike
// errors.Join, its message is not its parts' messages one per line.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	parts := j.Unwrap()
	msgs := make([]string, len(parts))
	for i, e := range parts {
		msgs[i] = e.Error()
	}
	if err.Error() != strings.Join(msgs, "\n") {
		return []error{err}
	}
	var out []error
	for _, e := range parts {
		out = append(out, flatten(e)...)
	}
	return out
}

// oneLine keeps an error on one line, whatever a wrapped error holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// trimLib drops the library's "qsjwt: " prefix: the CLI prints its own.
func trimLib(s string) string { return strings.TrimPrefix(s, "qsjwt: ") }

// optionFlag names the flag that sets a library option in each command:
// the create commands (and idp-config), decode and keygen; "" where the
// command has none.
type optionFlag struct{ create, decode, keygen string }

// optionFlagsOf maps each library option, by its Go name, to the flags that
// set it. It is the one place that ties options to flags: builder,
// verifier and certificate errors (OptionError.Option) and the verifier's
// problems (Problem.Option) are both read through it.
func optionFlagsOf(option string) optionFlag {
	switch option {
	case "WithTTL":
		return optionFlag{create: "--expires"}
	case "WithNotBeforeSkew":
		return optionFlag{create: "--expires"}
	case "WithAlgorithm":
		return optionFlag{create: "--alg"}
	case "WithAudience":
		return optionFlag{create: "--audience", decode: "--expected-audience"}
	case "WithUserIDClaim":
		return optionFlag{create: "--userid-claim", decode: "--userid-claim"}
	case "WithUserDirectoryClaim":
		return optionFlag{create: "--userdir-claim", decode: "--userdir-claim"}
	case "WithGroupsClaim":
		return optionFlag{create: "--groups-claim", decode: "--groups-claim"}
	case "WithIssuer":
		return optionFlag{create: "--issuer", decode: "--expected-issuer"}
	case "WithKeyID":
		return optionFlag{create: "--keyid", decode: "--keyid"}
	case "issuer": // NewCloud's parameters
		return optionFlag{create: "--issuer"}
	case "keyID":
		return optionFlag{create: "--keyid"}
	case "clientID": // NewClientAssertion's parameters
		return optionFlag{create: "--client-id"}
	case "tenantURL":
		return optionFlag{create: "--tenant"}
	case "key": // the verifiers' first parameter
		return optionFlag{decode: "--cert-publickey-file"}
	case "WithCommonName":
		return optionFlag{keygen: "--cn"}
	case "WithValidity":
		return optionFlag{create: "--cert-create-expires-days", keygen: "--days"}
	}
	return optionFlag{}
}

// createFlag, decodeFlag and keygenFlag pick a command's column of
// optionFlags.
func createFlag(o optionFlag) string { return o.create }
func decodeFlag(o optionFlag) string { return o.decode }
func keygenFlag(o optionFlag) string { return o.keygen }

// fieldFlags maps the library's user fields (as ClaimError.Field names them)
// to the flags that set them; a field is matched by prefix, so that
// "CloudUser.Groups[1]" finds --groups.
var fieldFlags = []struct{ field, flag string }{
	{"QSEoWUser.UserDirectory", "--userdir"},
	{"QSEoWUser.UserID", "--userid"},
	{"QSEoWUser.Name", "--username"},
	{"QSEoWUser.Email", "--useremail"},
	{"QSEoWUser.Groups", "--groups"},
	{"QSEoWUser.Attributes", "--claim"},
	{"CloudUser.Subject", "--sub"},
	{"CloudUser.Name", "--username"},
	{"CloudUser.Email", "--useremail"},
	{"CloudUser.Groups", "--groups"},
}

// LibError turns the library's error into problems naming the flags that fix
// them. keyFlag is the flag that gave the key; renames maps a flag to the
// spelling the user gave (e.g. --sub given as --userid). A problem a flag's
// value causes is a usage error (exit 2); any other (the key, I/O) is a
// failure of the work (exit 1).
func LibError(err error, keyFlag string, renames map[string]string) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range flatten(err) {
		flag := ""
		msg := trimLib(e.Error())
		var oe *qsjwt.OptionError
		var ce *qsjwt.ClaimError
		switch {
		case errors.As(e, &oe):
			flag = optionFlagsOf(oe.Option).create
			msg = oe.Reason
		case errors.As(e, &ce):
			flag = optionFlagsOf(ce.Field).create // a claim an option names, such as aud
			for _, ff := range fieldFlags {
				if strings.HasPrefix(ce.Field, ff.field) {
					flag = ff.flag
					break
				}
			}
			msg = fmt.Sprintf("claim %s: %s", Quote(ce.Claim), ce.Reason)
		}
		if r, ok := renames[flag]; ok {
			flag = r
		}
		if flag == "" {
			out = append(out, Failf(keyFlag, "%s", msg))
			continue
		}
		out = append(out, Usagef(flag, "%s", msg))
	}
	return errors.Join(out...)
}
