package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLogLevels: --loglevel takes every level the Node tool took (error,
// warn, info, verbose, debug) and the other levels of its logger (http,
// silly), and warning; error and warn quieten stderr, the others do not.
func TestLogLevels(t *testing.T) {
	base := []string{"create-qseow", "--userdir", "d", "--userid", "u", "--cert-privatekey-file", keyPath}
	for level, quiet := range map[string]bool{"error": true, "warn": true, "warning": true,
		"info": false, "http": false, "verbose": false, "debug": false, "silly": false} {
		t.Run(level, func(t *testing.T) {
			r := qsArgs(t, append(append([]string{}, base...), "--loglevel", level)...)
			assert.Equal(t, 0, r.code, r.stderr)
			if quiet {
				assert.Empty(t, r.stderr)
			} else {
				assert.Contains(t, r.stderr, "Created a QSEoW token")
			}
		})
	}
	r := qsArgs(t, append(append([]string{}, base...), "--loglevel", "loud")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "give one of error, warn, warning, info, http, verbose, debug, silly (--loglevel)")
}

// TestBadFlagValues: every flag given a value it cannot take exits 2, with
// the flag at the end of the line. Problems outside the command line (a
// file that is not there, a key that cannot be used, a token Qlik would
// refuse) exit 1; the other tests cover those.
func TestBadFlagValues(t *testing.T) {
	qseow := []string{"create-qseow", "--userdir", "d", "--userid", "u", "--cert-privatekey-file", keyPath}
	cloud := []string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--keyid", "K", "--cert-privatekey-file", keyPath}
	decode := []string{"decode", "--jwt-file", cloudJWT, "--cert-publickey-file", certPath}
	keygen := []string{"keygen", "--cert-file-prefix", t.TempDir() + "/"}
	with := func(base []string, args ...string) []string { return append(append([]string{}, base...), args...) }
	tests := []struct {
		args []string
		flag string
	}{
		{with(qseow, "--userdir", "x"), "--userdir"}, // given twice
		{[]string{"create-qseow", "--userdir", "d", "--userid", "a\\b", "--cert-privatekey-file", keyPath}, "--userid"},
		{with(qseow, "--username", "\xff"), "--username"},
		{with(qseow, "--useremail", "a\xe9@example.com"), "--useremail"},
		{with(qseow, "--groups", ""), "--groups"},
		{with(qseow, "--audience", ""), "--audience"},
		{with(qseow, "--expires", "1.5h"), "--expires"},
		{with(qseow, "--alg", "HS256"), "--alg"},
		{with(qseow, "--alg", "PS256"), "--alg"},
		{with(qseow, "--userid-claim", ""), "--userid-claim"},
		{with(qseow, "--userdir-claim", "exp"), "--userdir-claim"},
		{with(qseow, "--groups-claim", "userId"), "--groups-claim"},
		{with(qseow, "--claim", "nope"), "--claim"},
		{with(qseow, "--claim", "iss=x"), "--claim"},
		{with(qseow, "--minimal-output=maybe"), "--minimal-output"},
		{with(qseow, "--loglevel", "trace"), "--loglevel"},
		{with(qseow, "--cert-create-expires-days", "1"), "--cert-create"},
		{[]string{"create-qseow", "--userdir", "d", "--userid", "u", "--cert-create", "--cert-create-expires-days", "x"}, "--cert-create-expires-days"},
		{[]string{"create-qseow", "--userdir", "d", "--userid", "u", "--cert-create", "--cert-create-expires-days", "99999"}, "--cert-create-expires-days"},
		{[]string{"create-qseow", "--userdir", "d", "--userid", "u", "--cert-create=yes"}, "--cert-create"},
		{[]string{"create-qseow", "--userdir", "d", "--userid", "u", "--cert-privatekey-env", "A B"}, "--cert-privatekey-env"},
		{with(cloud, "--sub", "s2"), "--sub"},
		{with(cloud, "--useremail-verified", "yes"), "--useremail-verified"},
		{with(cloud, "--useremail-verified=no"), "--useremail-verified"},
		{with(cloud, "--expires", "2h"), "--expires"},
		{with(cloud, "--groups", "ok", "\xc3"), "--groups"},
		{[]string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I ", "--keyid", "K", "--cert-privatekey-file", keyPath}, "--issuer"},
		{[]string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--keyid", "", "--cert-privatekey-file", keyPath}, "--keyid"},
		{[]string{"create-qscloud", "--sub", "", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--keyid", "K", "--cert-privatekey-file", keyPath}, "--sub"},
		{with(decode, "--variant", "saas"), "--variant"},
		{with(decode, "--json=maybe"), "--json"},
		{with(decode, "--expected-audience", ""), "--expected-audience"},
		{with(decode, "--expected-issuer", ""), "--expected-issuer"},
		{with(decode, "--keyid", ""), "--keyid"},
		{with(decode, "--userid-claim", ""), "--userid-claim"},
		{with(decode, "--userdir-claim", "nbf"), "--userdir-claim"},
		{with(decode, "--groups-claim", "\xff"), "--groups-claim"},
		{with(keygen, "--type", "dsa"), "--type"},
		{with(keygen, "--bits", "1024"), "--bits"},
		{with(keygen, "--bits", "many"), "--bits"},
		{with(keygen, "--days", "0"), "--days"},
		{with(keygen, "--type", "ec", "--cn", " "), "--cn"},
		{with(keygen, "--force=sure"), "--force"},
	}
	for _, tc := range tests {
		t.Run(tc.flag+" "+tc.args[0], func(t *testing.T) {
			r := qsArgs(t, tc.args...)
			assert.Equal(t, 2, r.code, "%q: %s", tc.args, r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n")
		})
	}
}
