package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// The command line is read by a small parser over a flag.FlagSet: the
// FlagSet holds the flags, their types and their help, and parse below walks
// the arguments itself so that it can do what the Node tool's parser
// (commander) did and the flag package does not:
//
//   - a list flag (--groups g1 "group 2") takes every following argument up
//     to the next one that starts with "-", and may repeat;
//   - a boolean flag may be followed by "true" or "false" (--cert-create
//     true), as well as --flag and --flag=value;
//   - both --flag and -flag, --flag value and --flag=value;
//   - a value flag given twice is refused rather than silently overridden.

// ErrHelp and errVersion stop parsing: the command prints its help or the
// version and exits 0.
var (
	ErrHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
)

// ListValue is a flag.Value collecting every value of a list flag, such as
// --groups or --claim.
type ListValue []string

func (l *ListValue) String() string     { return strings.Join(*l, ",") }
func (l *ListValue) Set(v string) error { *l = append(*l, v); return nil }

// isList marks listValue for parse.
func (l *ListValue) isList() {}

type lister interface{ isList() }

// NewFlagSet returns a FlagSet that never prints and never exits.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse sets fs's flags from args (the arguments after the command name). It
// returns errHelp or errVersion when asked for, or a usage error naming the
// flag that is wrong. No command takes positional arguments. Errors never
// repeat a value that could be a secret (see checkValue and strayArg).
func parse(fs *flag.FlagSet, args []string) error {
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if i+1 < len(args) {
				return strayArg(fs, args, i+1, "after --")
			}
			return nil
		}
		if len(arg) < 2 || arg[0] != '-' {
			return strayArg(fs, args, i, "")
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
		switch name {
		case "help", "h":
			return ErrHelp
		case "version":
			return errVersion
		}
		f := fs.Lookup(name)
		if f == nil || name == "" {
			return unknownFlag(fs, arg, name)
		}
		flagName := "--" + name
		_, isList := f.Value.(lister)
		if seen[name] && !isList {
			return Usagef(flagName, "%s is given twice; give it once", flagName)
		}
		seen[name] = true

		var values []string
		switch {
		case hasValue:
			values = []string{value}
		case isBool(f):
			values = []string{"true"}
			if i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
				values[0] = args[i+1]
				i++
			}
		case isList:
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				values = append(values, args[i+1])
				i++
			}
			if len(values) == 0 {
				return Usagef(flagName, "%s needs at least one value", flagName)
			}
		default:
			if i+1 >= len(args) || isFlag(fs, args[i+1]) {
				return Usagef(flagName, "%s needs a value", flagName)
			}
			values = []string{args[i+1]}
			i++
		}
		for _, v := range values {
			if err := checkValue(name, v); err != nil {
				return err
			}
			if err := fs.Set(name, v); err != nil {
				return setError(f, v, err)
			}
		}
	}
	return nil
}

// unknownFlag explains an argument starting with "-" that names no flag.
func unknownFlag(fs *flag.FlagSet, arg, name string) error {
	switch {
	case looksSecret(arg):
		return Usagef("--help", "an argument is %s, given without its flag: a signing key goes in an environment variable named by --cert-privatekey-env; %s takes only flags", describe(arg), fs.Name())
	case flagLike.MatchString(name):
		return Usagef("--help", "unknown flag %q for %s", "--"+name, fs.Name())
	}
	return Usagef("--help", "unknown flag for %s: an argument starting with - is %s; give --help for the flags", fs.Name(), describe(arg))
}

// boolWord reports the words people give a boolean flag; the flag package
// reads most of them, the Node tool only true and false.
func boolWord(w string) bool {
	switch w {
	case "yes", "no", "y", "n", "on", "off", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False":
		return true
	}
	return false
}

// strayArg explains args[i], an argument that no flag takes. It is quoted
// only when it is a known word (a flag name, a boolean word); anything else
// could be a secret given without its flag, and is described instead.
func strayArg(fs *flag.FlagSet, args []string, i int, where string) error {
	arg := args[i]
	if where == "" && i > 0 {
		if f := fs.Lookup(strings.TrimLeft(args[i-1], "-")); f != nil && isBool(f) && strings.HasPrefix(args[i-1], "-") {
			flag := "--" + f.Name
			if boolWord(arg) || boolWord(strings.ToLower(arg)) {
				return Usagef(flag, "%s is a boolean: give %s true or %s false (the flag alone means true), not %q", flag, flag, flag, arg)
			}
			return Usagef(flag, "%s is a boolean and takes no value but true or false; the next argument is %s", flag, describe(arg))
		}
	}
	if where != "" {
		where = " " + where
	}
	switch {
	case looksSecret(arg):
		return Usagef("--help", "argument %d%s is %s, given without its flag: a signing key goes in an environment variable named by --cert-privatekey-env; %s takes only flags",
			i+1, where, describe(arg), fs.Name())
	case fs.Lookup(arg) != nil:
		return Usagef("--help", "unexpected argument %q%s: flags start with --, e.g. --%s", arg, where, arg)
	}
	return Usagef("--help", "unexpected argument %d%s (%s); %s takes only flags: quote a value with spaces, and give each value after its flag",
		i+1, where, describe(arg), fs.Name())
}

// setError explains a value the flag refused.
func setError(f *flag.Flag, v string, err error) error {
	name := "--" + f.Name
	shown := describe(v)
	if flagKindOf(f.Name) == kindText && echoable.MatchString(v) && !looksSecret(v) {
		shown = Quote(v)
	}
	if isBool(f) {
		return Usagef(name, "%s is a boolean: give %s true or %s false (the flag alone means true), not %s", name, name, name, shown)
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if _, isInt := g.Get().(int); isInt {
			return Usagef(name, "%s takes a whole number, not %s", name, shown)
		}
	}
	return Usagef(name, "%s %s: %v", name, shown, err)
}

// isBool reports whether f is a boolean flag, which needs no value.
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isFlag reports whether arg names a flag of fs (or help), so that a missing
// value is reported instead of taking the next flag as the value.
func isFlag(fs *flag.FlagSet, arg string) bool {
	if !strings.HasPrefix(arg, "--") {
		return false
	}
	name, _, _ := strings.Cut(arg[2:], "=")
	return fs.Lookup(name) != nil || name == "help" || name == "version"
}

// Given reports whether the flag name was set on the command line.
func Given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// usage prints fs's flags, one per line with its help, as a command's --help.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		switch {
		case isBool(f):
			arg = ""
		case arg == "value":
			arg = "V"
		}
		if _, ok := f.Value.(lister); ok {
			arg += "..."
		}
		left := "--" + f.Name
		if arg != "" {
			left += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" && !isBool(f) {
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %-30s %s\n", left, help)
	})
}
