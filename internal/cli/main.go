// Package cli is the qs-jwt command line, shared by its two programs:
// cmd/qs-jwt, which creates, decodes and checks tokens and keys, and
// cmd/qs-jwt-net, which adds the commands that talk to Qlik (setup, doctor,
// oauth-token) or build its admin API's bodies (idp-config), and which
// qs-jwt runs for those commands (see [Main]).
//
// It keeps the flag names of the Node tool of the same name, so that
// existing scripts keep working, without its traps: a failure exits non-zero
// with one line on stderr naming the problem and the flag that fixes it, the
// create commands print the token alone on stdout, --expires needs a unit,
// the private key file is written with mode 0600, and key files are never
// overwritten silently.
//
// Exit codes: 0 success; 1 the work failed (a key that cannot be used, a
// token that fails verification, I/O); 2 the command line is wrong (unknown
// command or flag, a missing flag, or a flag's value that cannot be read or
// that Qlik would refuse).
//
// No output ever repeats a value given to a flag that carries a secret or
// names one (a key, a passphrase, a token, or the variable or file holding
// it), even when the value is given to the wrong flag or without a flag:
// such a value is described (its length, and that it looks like a PEM key
// or a token), and the slip is named. Names and values that come from a
// token are quoted or escaped, so that they cannot drive the terminal.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Clock is the time every command reads; tests set it once, before any test
// runs, for deterministic tokens.
var Clock = time.Now

// Command is one subcommand: its name, a one-line summary for the overview,
// and the function that runs it.
type Command struct {
	Name, Summary string
	Run           func(e *Env, args []string) error
}

// commands lists the subcommands in the order the help shows them, with the
// online ones (nil Run here) taken from online, or run in qs-jwt-net when
// online lacks them. It is a function, not a variable, so that nothing
// happens before Main runs.
func commands(online []Command) []Command {
	list := []Command{
		{"create-qseow", "create a JWT for a client-managed Qlik Sense (QSEoW) virtual proxy", runCreateQSEoW},
		{"create-qscloud", "create a JWT for a Qlik Cloud JWT identity provider", runCreateCloud},
		{"create-assertion", "sign an OAuth client assertion (Private Key JWT) for Qlik Cloud", runCreateAssertion},
		{"oauth-token", "get a Qlik Cloud OAuth access token (client or impersonated user)", nil},
		{"decode", "print a JWT's header and claims; with a key, verify it against Qlik's rules", runDecode},
		{"keygen", "write a new private key, public key and self-signed certificate", runKeygen},
		{"idp-config", "print the Qlik Cloud identity-provider JSON and the QSEoW virtual proxy fields", nil},
		{"setup", "set Qlik up for JWT logins: a Cloud identity provider or a QSEoW virtual proxy", nil},
		{"doctor", "log in to Qlik for real with your key and name the cause and fix of each failure", nil},
	}
	for i := range list {
		if list[i].Run != nil {
			continue
		}
		list[i].Run = runOnline(list[i].Name)
		for _, c := range online {
			if c.Name == list[i].Name {
				list[i].Run = c.Run
			}
		}
	}
	return list
}

// run is Main without the online commands, for this package's tests: they
// run those commands in a qs-jwt-net program found as runOnline finds it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return Main(args, stdin, stdout, stderr, getenv, nil)
}

// Main runs the command line on args, the arguments after the program name,
// and returns the exit code.
//
// online holds the commands that need net/http through package provision or
// session: setup, doctor, oauth-token and idp-config. cmd/qs-jwt-net passes
// them; cmd/qs-jwt passes nil and runs the qs-jwt-net program for them
// (runOnline), so that its own start links no HTTP client: Go runs every
// linked package's initialisation on every start of every command, and has
// no lazy imports. Nothing runs before Main: no package-level variable of
// this package computes (and it links no regexp, see shapes.go).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, online []Command) int {
	if online != nil {
		// This is qs-jwt-net. Run by a qs-jwt of another version, its flags
		// may differ from those that qs-jwt's help shows: say so. What it
		// runs (a --sign-command) may run qs-jwt, which must be free to run
		// qs-jwt-net again.
		if parent := getenv(onlineGuard); parent != "" && parent != versionLine() {
			fmt.Fprintln(stderr, safeText(oneLine(fmt.Sprintf("qs-jwt: warning: %s is %s, but the qs-jwt that runs it is %s; install both from the same release",
				OnlineProgram, strings.TrimPrefix(versionLine(), "qs-jwt "), strings.TrimPrefix(parent, "qs-jwt ")))))
		}
		os.Unsetenv(onlineGuard)
	}
	e := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, level: "info"}
	if len(args) == 0 {
		printOverview(stderr)
		return report(stderr, Usagef("--help", "no command given; give one of %s", commandNames()))
	}
	name := args[0]
	switch name {
	case "--help", "-help", "-h", "help":
		if len(args) > 1 && name == "help" {
			return Main([]string{args[1], "--help"}, stdin, stdout, stderr, getenv, online)
		}
		printOverview(stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	for _, c := range commands(online) {
		if c.Name == name {
			err := c.Run(e, args[1:])
			var status exitStatus
			if errors.As(err, &status) {
				return int(status)
			}
			if errors.Is(err, ErrHelp) || errors.Is(err, errVersion) {
				return exitOK
			}
			return report(stderr, err)
		}
	}
	if !commandLike.MatchString(name) { // it could be a secret given without its flag
		return report(stderr, Usagef("--help", "the first argument is %s, not a command: a signing key goes in an environment variable named by --cert-privatekey-env; give one of %s", describe(name), commandNames()))
	}
	return report(stderr, Usagef("--help", "unknown command %q; give one of %s", name, commandNames()))
}

func commandNames() string {
	var names []string
	for _, c := range commands(nil) {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

func printOverview(w io.Writer) {
	fmt.Fprintf(w, "qs-jwt creates and checks the JWTs Qlik Sense accepts.\n\nUsage: qs-jwt <command> [flags]\n\nCommands:\n")
	for _, c := range commands(nil) {
		fmt.Fprintf(w, "  %-17s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun qs-jwt <command> --help for a command's flags; qs-jwt --version for the version.\n"+
		"Exit codes: 0 success, 1 the work failed, 2 the command line is wrong.\n")
}

// version is stamped at build time by scripts/release.sh:
//
//	go build -ldflags "-X github.com/qsjwt/qsjwt/internal/cli.version=$(git describe --always --dirty)" ./cmd/qs-jwt
//
// Without it, --version prints the module version go install recorded.
var version string

// versionLine is what --version prints: the version and the Go version.
func versionLine() string {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("qs-jwt %s %s", v, runtime.Version())
}

// Env is what a command runs with: the process's streams and environment,
// and the output settings every command accepts.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	level   string // --loglevel: one of logLevels
	minimal bool   // --minimal-output: no informational lines
}

// parse adds the flags every command accepts to fs, reads args, and prints
// the command's help or the version when asked. synopsis is the usage line
// without "qs-jwt ", about a paragraph for --help.
func (e *Env) Parse(fs *flag.FlagSet, args []string, synopsis, about string) error {
	fs.Var(&ChoiceValue{v: &e.level, choices: logLevels}, "loglevel",
		"`level` of the lines on stderr: error (errors only), warn or warning (no informational lines), or info, http, verbose, debug, silly (all lines)")
	fs.BoolVar(&e.minimal, "minimal-output", false, "print no informational lines on stderr (stdout is always the result alone)")
	err := parse(fs, args)
	switch {
	case errors.Is(err, ErrHelp):
		fmt.Fprintf(e.Stdout, "Usage: qs-jwt %s\n\n%s\n\nFlags:\n", synopsis, about)
		printFlags(e.Stdout, fs)
		fmt.Fprintf(e.Stdout, "  %-30s %s\n  %-30s %s\n", "--help", "print this help", "--version", "print the version")
	case errors.Is(err, errVersion):
		fmt.Fprintln(e.Stdout, versionLine())
	}
	return err
}

// infof prints an informational line on stderr, unless --minimal-output or a
// --loglevel of warn or error asks for quiet.
func (e *Env) Infof(format string, args ...any) {
	if e.quiet() {
		return
	}
	fmt.Fprint(e.Stderr, safeText(fmt.Sprintf(format+"\n", args...)))
}

// logLevels are the --loglevel values: every level the Node tool accepted
// (error, warn, info, verbose, debug), the other levels of the logger it
// used (winston's http and silly), and warning for warn. qs-jwt prints
// errors, warnings and informational lines; the finer levels print what
// info prints.
var logLevels = []string{"error", "warn", "warning", "info", "http", "verbose", "debug", "silly"}

// quiet reports whether informational lines are off.
func (e *Env) quiet() bool {
	return e.minimal || e.level == "warn" || e.level == "warning" || e.level == "error"
}

// warnf prints a warning on stderr, unless --loglevel is error.
func (e *Env) warnf(format string, args ...any) {
	if e.level == "error" {
		return
	}
	fmt.Fprint(e.Stderr, safeText(oneLine(fmt.Sprintf("qs-jwt: warning: "+format, args...))+"\n"))
}

// ChoiceValue is a flag.Value that takes one of a fixed set of words.
type ChoiceValue struct {
	v       *string
	choices []string
}

// Choice is a flag value that must be one of choices, stored in v.
func Choice(v *string, choices ...string) *ChoiceValue {
	return &ChoiceValue{v: v, choices: choices}
}

func (c *ChoiceValue) String() string {
	if c.v == nil {
		return ""
	}
	return *c.v
}

func (c *ChoiceValue) Set(s string) error {
	for _, ch := range c.choices {
		if s == ch {
			*c.v = s
			return nil
		}
	}
	return fmt.Errorf("give one of %s", strings.Join(c.choices, ", "))
}
