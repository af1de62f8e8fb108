package cli

import (
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testFlags is a command with one flag of each kind.
type testFlags struct {
	name   string
	force  bool
	groups ListValue
	days   int
}

func newTestFlags() (*flag.FlagSet, *testFlags) {
	fs := NewFlagSet("cmd")
	f := &testFlags{}
	fs.StringVar(&f.name, "userid", "", "")
	fs.BoolVar(&f.force, "cert-create", false, "")
	fs.Var(&f.groups, "groups", "")
	fs.IntVar(&f.days, "days", 1, "")
	return fs, f
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		want   testFlags
		errMsg string // part of the usage error; "" for success
		flag   string // the flag the error names
	}{
		{"nothing", nil, testFlags{days: 1}, "", ""},
		{"--flag value", []string{"--userid", "anna"}, testFlags{name: "anna", days: 1}, "", ""},
		{"--flag=value", []string{"--userid=anna"}, testFlags{name: "anna", days: 1}, "", ""},
		{"-flag value", []string{"-userid", "anna"}, testFlags{name: "anna", days: 1}, "", ""},
		{"value with =", []string{"--userid", "a=b"}, testFlags{name: "a=b", days: 1}, "", ""},
		{"empty value", []string{"--userid="}, testFlags{days: 1}, "", ""},
		{"value starting with -", []string{"--days", "-5"}, testFlags{days: -5}, "", ""},
		{"groups take several values", []string{"--groups", "g1", "group 2", "--userid", "u"},
			testFlags{name: "u", groups: ListValue{"g1", "group 2"}, days: 1}, "", ""},
		{"groups repeat", []string{"--groups", "a", "--userid", "u", "--groups", "b", "c"},
			testFlags{name: "u", groups: ListValue{"a", "b", "c"}, days: 1}, "", ""},
		{"groups=value takes one", []string{"--groups=a", "--groups", "b"}, testFlags{groups: ListValue{"a", "b"}, days: 1}, "", ""},
		{"groups at the end", []string{"--userid", "u", "--groups", "x"}, testFlags{name: "u", groups: ListValue{"x"}, days: 1}, "", ""},
		{"bool bare", []string{"--cert-create"}, testFlags{force: true, days: 1}, "", ""},
		{"bool true", []string{"--cert-create", "true", "--userid", "u"}, testFlags{force: true, name: "u", days: 1}, "", ""},
		{"bool false", []string{"--cert-create", "false"}, testFlags{days: 1}, "", ""},
		{"bool =false", []string{"--cert-create=false"}, testFlags{days: 1}, "", ""},
		{"-- ends flags", []string{"--userid", "u", "--"}, testFlags{name: "u", days: 1}, "", ""},

		{"unknown flag", []string{"--nope"}, testFlags{}, `unknown flag "--nope" for cmd`, "--help"},
		{"empty flag name", []string{"--=x"}, testFlags{}, `unknown flag for cmd: an argument starting with - is a value of 4 characters`, "--help"},
		{"positional, not repeated", []string{"anna"}, testFlags{}, `unexpected argument 1 (a value of 4 characters); cmd takes only flags`, "--help"},
		{"flag name without dashes", []string{"userid"}, testFlags{}, `unexpected argument "userid": flags start with --, e.g. --userid`, "--help"},
		{"single dash", []string{"-"}, testFlags{}, `unexpected argument 1 (a value of 1 character)`, "--help"},
		{"after --", []string{"--", "x"}, testFlags{}, `unexpected argument 2 after -- (a value of 1 character)`, "--help"},
		{"missing value", []string{"--userid"}, testFlags{}, "--userid needs a value", "--userid"},
		{"flag as value", []string{"--userid", "--days", "3"}, testFlags{}, "--userid needs a value", "--userid"},
		{"groups without value", []string{"--groups", "--userid", "u"}, testFlags{}, "--groups needs at least one value", "--groups"},
		{"given twice", []string{"--userid", "a", "--userid", "b"}, testFlags{}, "--userid is given twice", "--userid"},
		{"bad int", []string{"--days", "many"}, testFlags{}, `--days takes a whole number, not "many"`, "--days"},
		{"bad bool", []string{"--cert-create=maybe"}, testFlags{}, `--cert-create is a boolean: give --cert-create true or --cert-create false (the flag alone means true), not "maybe"`, "--cert-create"},
		{"yes after a bool", []string{"--cert-create", "yes"}, testFlags{}, `--cert-create is a boolean: give --cert-create true or --cert-create false (the flag alone means true), not "yes"`, "--cert-create"},
		{"other word after a bool", []string{"--cert-create", "maybe"}, testFlags{}, `--cert-create is a boolean and takes no value but true or false; the next argument is a value of 5 characters`, "--cert-create"},
		{"invalid UTF-8", []string{"--userid", "M\xfcller"}, testFlags{}, `--userid is not valid UTF-8 (byte 0xfc at offset 1)`, "--userid"},
		{"invalid UTF-8 in a list", []string{"--groups", "ok", "M\xf6ller"}, testFlags{}, `--groups is not valid UTF-8 (byte 0xf6 at offset 1)`, "--groups"},
		{"invalid UTF-8, = form", []string{"--userid=\xff"}, testFlags{}, `--userid is not valid UTF-8 (byte 0xff at offset 0)`, "--userid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, got := newTestFlags()
			err := parse(fs, tc.args)
			if tc.errMsg == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, *got)
				return
			}
			var ce *cliError
			require.True(t, errors.As(err, &ce), "a usage error: %v", err)
			assert.Equal(t, exitUsage, ce.code)
			assert.Contains(t, ce.msg, tc.errMsg)
			assert.Equal(t, tc.flag, ce.flag)
		})
	}
}

func TestParseHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--userid", "u", "-help"}} {
		fs, _ := newTestFlags()
		assert.ErrorIs(t, parse(fs, args), ErrHelp, "%v", args)
	}
	fs, _ := newTestFlags()
	assert.ErrorIs(t, parse(fs, []string{"--version"}), errVersion)
}

func TestParseClaims(t *testing.T) {
	got, err := parseClaims([]string{"dept=Sales", "role=a", "empty=", "role=b", "eq=x=y"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"dept": "Sales", "role": []string{"a", "b"}, "empty": "", "eq": "x=y"}, got)

	got, err = parseClaims(nil)
	require.NoError(t, err)
	assert.Nil(t, got)

	for _, bad := range []string{"noequals", "=value"} {
		_, err := parseClaims([]string{bad})
		var ce *cliError
		require.True(t, errors.As(err, &ce), bad)
		assert.Equal(t, "--claim", ce.flag)
		assert.Equal(t, exitUsage, ce.code)
	}
}
