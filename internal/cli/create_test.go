package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qsjwt/qsjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// iat is the fixed clock in seconds.
var iat = fixedNow.Unix()

func TestCreateQSEoW(t *testing.T) {
	key := readFixture(t, "test-only-rsa2048-pkcs8.pem")
	base := []string{"create-qseow", "--userdir", "GRUSGRUS", "--userid", "anna"}
	tests := []struct {
		name   string
		opts   runOpts
		args   []string
		check  func(t *testing.T, d decoded)
		stderr string // a part of stderr
	}{
		{"defaults", runOpts{}, []string{"--cert-privatekey-file", keyPath}, func(t *testing.T, d decoded) {
			assert.Equal(t, `"RS256"`, d.hdr("alg"))
			assert.Equal(t, `"JWT"`, d.hdr("typ"))
			assert.Equal(t, `"anna"`, d.claim("userId"))
			assert.Equal(t, `"GRUSGRUS"`, d.claim("userDirectory"))
			assert.Equal(t, iat, d.num(t, "iat"))
			assert.Equal(t, iat+3600, d.num(t, "exp"), "default --expires 60m")
			for _, absent := range []string{"aud", "name", "email", "group", "nbf", "sub"} {
				assert.NotContains(t, d.claims, absent)
			}
		}, `Created a QSEoW token for GRUSGRUS\anna (RS256), valid until 2026-11-29T13:00:00Z.`},
		{"every flag", runOpts{}, []string{"--username", "Anna Andersson", "--useremail", "anna@example.com",
			"--groups", "g1", "group 2", "--audience", "hdJh34wkK", "--expires", "1h30m", "--alg", "RS512",
			"--userid-claim", "user", "--userdir-claim", "directory", "--groups-claim", "roles", "--groups", "g3",
			"--claim", "dept=Sales", "--claim", "tag=a", "tag=b", "--cert-privatekey-file", keyPath}, func(t *testing.T, d decoded) {
			assert.Equal(t, `"RS512"`, d.hdr("alg"))
			assert.Equal(t, `"anna"`, d.claim("user"))
			assert.Equal(t, `"GRUSGRUS"`, d.claim("directory"))
			assert.Equal(t, `"Anna Andersson"`, d.claim("name"))
			assert.Equal(t, `"anna@example.com"`, d.claim("email"))
			assert.Equal(t, `["g1","group 2","g3"]`, d.claim("roles"))
			assert.Equal(t, `"hdJh34wkK"`, d.claim("aud"), "aud is a plain string")
			assert.Equal(t, `"Sales"`, d.claim("dept"))
			assert.Equal(t, `["a","b"]`, d.claim("tag"))
			assert.Equal(t, iat+5400, d.num(t, "exp"))
		}, ""},
		{"= form and RS384", runOpts{}, []string{"--expires=90s", "--alg=RS384", "--cert-privatekey-file=" + keyPath}, func(t *testing.T, d decoded) {
			assert.Equal(t, `"RS384"`, d.hdr("alg"))
			assert.Equal(t, iat+90, d.num(t, "exp"))
		}, ""},
		{"long lifetime", runOpts{}, []string{"--expires", "1y", "--cert-privatekey-file", keyPath}, func(t *testing.T, d decoded) {
			assert.Equal(t, iat+365*86400, d.num(t, "exp"))
		}, ""},
		{"key from env with literal \\n", runOpts{env: map[string]string{"QS_KEY": strings.ReplaceAll(key, "\n", `\n`)}},
			[]string{"--cert-privatekey-env", "QS_KEY"}, nil, ""},
		{"key from stdin", runOpts{stdin: key}, []string{"--cert-privatekey-file", "-"}, nil, ""},
		{"key on the command line warns", runOpts{}, []string{"--cert-privatekey", key}, nil,
			"qs-jwt: warning: --cert-privatekey puts the private key on the command line"},
		{"PKCS #1 key", runOpts{}, []string{"--cert-privatekey-file", fixture("test-only-rsa2048-pkcs1.pem")}, nil, ""},
		{"CRLF key", runOpts{}, []string{"--cert-privatekey-file", fixture("test-only-rsa2048-pkcs8-crlf.pem")}, nil, ""},
		{"encrypted key with passphrase", runOpts{env: map[string]string{"PASS": fixturePassphrase}},
			[]string{"--cert-privatekey-file", fixture("test-only-rsa2048-pkcs8-aes256.pem"), "--passphrase-env", "PASS"}, nil, ""},
		{"legacy encrypted key with passphrase", runOpts{env: map[string]string{"PASS": fixturePassphrase}},
			[]string{"--cert-privatekey-file", fixture("test-only-rsa2048-pkcs1-aes256.pem"), "--passphrase-env", "PASS"}, nil, ""},
		{"minimal output", runOpts{}, []string{"--minimal-output", "--cert-privatekey-file", keyPath}, nil, ""},
		{"loglevel error silences the warning", runOpts{}, []string{"--loglevel", "error", "--cert-privatekey", key}, nil, ""},
		{"Node tool's --cert-create false", runOpts{}, []string{"--cert-create", "false", "--cert-privatekey-file", keyPath}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, tc.opts, append(append([]string{}, base...), tc.args...)...)
			d := token(t, r, certPath)
			if tc.check != nil {
				tc.check(t, d)
			}
			if tc.stderr == "" && (strings.Contains(tc.name, "minimal") || strings.Contains(tc.name, "loglevel")) {
				assert.Empty(t, r.stderr)
			}
			assert.Contains(t, r.stderr, tc.stderr)
		})
	}
}

// failCase is a command line that must fail: its exit code, and the problem
// and flag its error line names.
type failCase struct {
	name string
	opts runOpts
	args []string
	code int
	msg  string // a part of stderr
	flag string // the flag at the end of the error line
}

func runFailCases(t *testing.T, base []string, tests []failCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, tc.opts, append(append([]string{}, base...), tc.args...)...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tc.msg)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n")
			assert.NotContains(t, r.stderr, "goroutine", "no stack trace")
		})
	}
}

func TestCreateQSEoWFailures(t *testing.T) {
	pass := map[string]string{"PASS": fixturePassphrase, "WRONG": "wrong", "EMPTY": ""}
	k := []string{"--cert-privatekey-file", keyPath}
	runFailCases(t, []string{"create-qseow"}, []failCase{
		{"no userdir", runOpts{}, append([]string{"--userid", "u"}, k...), 2, "create-qseow needs the user directory", "--userdir"},
		{"no userid", runOpts{}, append([]string{"--userdir", "d"}, k...), 2, "needs the user ID", "--userid"},
		{"no key", runOpts{}, []string{"--userdir", "d", "--userid", "u"}, 2, "no signing key", "--cert-privatekey-file"},
		{"two keys", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--cert-privatekey-env", "K"}, k...), 2, "give only one of", "--cert-privatekey-env"},
		{"bare number", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--expires", "3600"}, k...), 2, "Node tool read bare numbers as milliseconds", "--expires"},
		{"zero", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--expires", "0m"}, k...), 2, "is zero", "--expires"},
		{"negative", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--expires", "-1h"}, k...), 2, "negative", "--expires"},
		{"bad claim flag", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--claim", "x"}, k...), 2, "not name=value", "--claim"},
		{"prefix without --cert-create", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--cert-file-prefix", "x/"}, k...), 2, "only with --cert-create", "--cert-create"},
		{"--force without --cert-create", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--force"}, k...), 2, "only with --cert-create", "--cert-create"},
		{"--cert-create with a passphrase", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-create", "--cert-file-prefix", t.TempDir() + "/", "--passphrase-env", "P"}, 2, "unencrypted", "--passphrase-env"},
		{"HS256", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--alg", "HS256"}, k...), 2, "not accepted by a QSEoW virtual proxy", "--alg"},
		{"backslash in user ID", runOpts{}, append([]string{"--userdir", "d", "--userid", `DOM\u`}, k...), 2, `claim "userId": contains a backslash`, "--userid"},
		{"white space in directory", runOpts{}, append([]string{"--userdir", "d ", "--userid", "u"}, k...), 2, `claim "userDirectory"`, "--userdir"},
		{"empty user ID", runOpts{}, append([]string{"--userdir", "d", "--userid", ""}, k...), 2, "is empty", "--userid"},
		{"registered claim name", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--userid-claim", "sub"}, k...), 2, "registered JWT claim", "--userid-claim"},
		{"same claim names", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--userdir-claim", "userId"}, k...), 2, "claims must differ", "--userdir-claim"},
		{"attribute overwrites a claim", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--claim", "userId=x"}, k...), 2, `claim "userId"`, "--claim"},
		{"registered attribute", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--claim", "exp=1"}, k...), 2, `claim "exp"`, "--claim"},
		{"empty group", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--groups", " "}, k...), 2, "a group name is empty", "--groups"},
		{"empty audience", runOpts{}, append([]string{"--userdir", "d", "--userid", "u", "--audience", ""}, k...), 2, "audience is empty", "--audience"},
		{"missing key file", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", "nope.pem"}, 1, "nope.pem", "--cert-privatekey-file"},
		{"empty key text", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey", ""}, 1, "the input is empty", "--cert-privatekey"},
		{"empty key variable name", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-env", ""}, 2, "give the name of the environment variable", "--cert-privatekey-env"},
		{"empty key file flag", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", ""}, 2, "give the path", "--cert-privatekey-file"},
		{"certificate as key", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", certPath}, 1, "a certificate was given where the private key belongs", "--cert-privatekey-file"},
		{"public key as key", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-rsa2048-public.pem")}, 1, "public key", "--cert-privatekey-file"},
		{"1024-bit key", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-rsa1024-pkcs8.pem")}, 1, "1024 bits", "--cert-privatekey-file"},
		{"EC key", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-ec-p256-pkcs8.pem")}, 1, "ECDSA", "--cert-privatekey-file"},
		{"encrypted, no passphrase", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-rsa2048-pkcs8-aes256.pem")}, 1, "openssl pkey -in enc.pem -out key.pem", "--passphrase-env"},
		{"encrypted, wrong passphrase", runOpts{env: pass}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-rsa2048-pkcs8-aes256.pem"), "--passphrase-env", "WRONG"}, 1, "the passphrase in environment variable WRONG does not decrypt", "--passphrase-env"},
		{"empty passphrase variable", runOpts{env: pass}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-rsa2048-pkcs8-aes256.pem"), "--passphrase-env", "EMPTY"}, 1, "environment variable EMPTY is empty or not set", "--passphrase-env"},
		{"PBES1 key", runOpts{env: pass}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", fixture("test-only-rsa2048-pkcs8-pbes1.pem"), "--passphrase-env", "PASS"}, 1, "cannot be decrypted", "--cert-privatekey-file"},
		{"unset key variable", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-env", "QS_KEY"}, 1, "environment variable QS_KEY is empty or not set", "--cert-privatekey-env"},
		{"garbage key variable", runOpts{env: map[string]string{"QS_KEY": "not a key"}}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-env", "QS_KEY"}, 1, "no -----BEGIN", "--cert-privatekey-env"},
		{"garbage on stdin", runOpts{stdin: "x"}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", "-"}, 1, "no -----BEGIN", "--cert-privatekey-file"},
		{"too much on stdin", runOpts{stdin: strings.Repeat("x", maxInput+1)}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", "-"}, 1, "larger than 1 MiB", "--cert-privatekey-file"},
		{"key file is a directory", runOpts{}, []string{"--userdir", "d", "--userid", "u", "--cert-privatekey-file", t.TempDir()}, 1, "is a directory", "--cert-privatekey-file"},
	})
}

func TestCreateCloud(t *testing.T) {
	base := []string{"create-qscloud", "--username", "Anna Andersson", "--useremail", "anna@example.com",
		"--issuer", "tenant.eu.qlikcloud.com", "--keyid", "kid-1", "--cert-privatekey-file", keyPath}
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, d decoded)
	}{
		{"defaults", []string{"--sub", "anna-42"}, func(t *testing.T, d decoded) {
			assert.Equal(t, `"RS256"`, d.hdr("alg"))
			assert.Equal(t, `"kid-1"`, d.hdr("kid"))
			assert.Equal(t, `"JWT"`, d.hdr("typ"))
			assert.Equal(t, `"tenant.eu.qlikcloud.com"`, d.claim("iss"))
			assert.Equal(t, `"qlik.api/login/jwt-session"`, d.claim("aud"), "aud is a plain string")
			assert.Equal(t, `"anna-42"`, d.claim("sub"))
			assert.Equal(t, `"user"`, d.claim("subType"))
			assert.Equal(t, `"Anna Andersson"`, d.claim("name"))
			assert.Equal(t, `"anna@example.com"`, d.claim("email"))
			assert.Equal(t, `false`, d.claim("email_verified"), "a JSON boolean")
			assert.Len(t, strings.Trim(d.claim("jti"), `"`), 22, "128 bits, base64url")
			assert.Equal(t, iat, d.num(t, "iat"))
			assert.Equal(t, iat-5, d.num(t, "nbf"))
			assert.Equal(t, iat+300, d.num(t, "exp"), "default --expires 5m")
			assert.NotContains(t, d.claims, "groups")
			assert.NotContains(t, d.claims, "group")
		}},
		{"60m fits Qlik's limit", []string{"--sub", "anna-42", "--expires", "60m"}, func(t *testing.T, d decoded) {
			assert.Equal(t, iat+3600, d.num(t, "exp"))
			assert.Equal(t, iat, d.num(t, "nbf"), "no nbf skew left")
		}},
		{"59m58s keeps 2 s of skew", []string{"--sub", "anna-42", "--expires", "59m58s"}, func(t *testing.T, d decoded) {
			assert.Equal(t, int64(3600), d.num(t, "exp")-d.num(t, "nbf"))
		}},
		{"--userid is --sub", []string{"--userid", "anna-42"}, func(t *testing.T, d decoded) {
			assert.Equal(t, `"anna-42"`, d.claim("sub"))
		}},
		{"both, the same", []string{"--userid", "anna-42", "--sub", "anna-42"}, nil},
		{"verified, groups", []string{"--sub", "a", "--useremail-verified", "true", "--groups", "g1", "group 2", "--groups", "g3"}, func(t *testing.T, d decoded) {
			assert.Equal(t, `true`, d.claim("email_verified"))
			assert.Equal(t, `["g1","group 2","g3"]`, d.claim("groups"), "groups, plural")
		}},
		{"verified bare", []string{"--useremail-verified", "--sub", "a"}, func(t *testing.T, d decoded) {
			assert.Equal(t, `true`, d.claim("email_verified"))
		}},
		{"verified =false", []string{"--useremail-verified=false", "--sub", "a"}, func(t *testing.T, d decoded) {
			assert.Equal(t, `false`, d.claim("email_verified"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, append(append([]string{}, base...), tc.args...)...)
			d := token(t, r, certPath)
			if tc.check != nil {
				tc.check(t, d)
			}
			assert.Contains(t, r.stderr, "Created a Qlik Cloud token")
		})
	}
}

func TestCreateCloudFailures(t *testing.T) {
	k := []string{"--cert-privatekey-file", keyPath}
	ok := []string{"--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--keyid", "K"}
	without := func(flag string) []string {
		var out []string
		for i := 0; i < len(ok); i += 2 {
			if ok[i] != flag {
				out = append(out, ok[i], ok[i+1])
			}
		}
		return append(out, k...)
	}
	with := func(args ...string) []string { return append(append(append([]string{}, ok...), k...), args...) }
	runFailCases(t, []string{"create-qscloud"}, []failCase{
		{"no sub", runOpts{}, without("--sub"), 2, "a new sub is a new user (the Node tool made a random one per token)", "--sub"},
		{"no username", runOpts{}, without("--username"), 2, "needs the user's display name", "--username"},
		{"no useremail", runOpts{}, without("--useremail"), 2, "needs the user's e-mail address", "--useremail"},
		{"no issuer", runOpts{}, without("--issuer"), 2, "needs the identity provider's issuer", "--issuer"},
		{"no keyid", runOpts{}, without("--keyid"), 2, "needs the identity provider's key ID", "--keyid"},
		{"sub and userid differ", runOpts{}, with("--userid", "other"), 2, "--sub and --userid", "--userid"},
		{"over 60m", runOpts{}, with("--expires", "61m"), 2, "exceeds Qlik Cloud's limit", "--expires"},
		{"a day, as the Node tool allowed", runOpts{}, with("--expires", "365d"), 2, "exceeds Qlik Cloud's limit", "--expires"},
		{"bare number", runOpts{}, with("--expires", "300"), 2, "e.g. 300s or 5m", "--expires"},
		{"verified=yes", runOpts{}, with("--useremail-verified=yes"), 2, `--useremail-verified is a boolean: give --useremail-verified true or --useremail-verified false`, "--useremail-verified"},
		{"verified yes", runOpts{}, with("--useremail-verified", "yes"), 2, `--useremail-verified is a boolean: give --useremail-verified true or --useremail-verified false (the flag alone means true), not "yes"`, "--useremail-verified"},
		{"verified 1", runOpts{}, with("--useremail-verified", "1"), 2, `is a boolean`, "--useremail-verified"},
		{"no @", runOpts{}, append([]string{"--sub", "s", "--username", "N", "--useremail", "anna", "--issuer", "I", "--keyid", "K"}, k...), 2, `claim "email": is not an e-mail address`, "--useremail"},
		{"empty sub via --userid", runOpts{}, append([]string{"--userid", "", "--username", "N", "--useremail", "n@x", "--issuer", "I", "--keyid", "K"}, k...), 2, `claim "sub"`, "--userid"},
		{"empty group", runOpts{}, with("--groups", ""), 2, "a group name is empty", "--groups"},
		{"issuer with space", runOpts{}, append([]string{"--sub", "s", "--username", "N", "--useremail", "n@x", "--issuer", " I", "--keyid", "K"}, k...), 2, "white space", "--issuer"},
		{"QSEoW flag", runOpts{}, with("--audience", "x"), 2, `unknown flag "--audience"`, "--help"},
		{"no key", runOpts{}, ok, 2, "no signing key", "--cert-privatekey-file"},
	})
}

func TestNotBeforeSkew(t *testing.T) {
	for ttl, want := range map[string]string{"5m": "5s", "60m": "0s", "59m57s": "3s", "1m": "5s", "61m": "5s"} {
		d, err := parseExpires(ttl)
		require.NoError(t, err)
		assert.Equal(t, want, notBeforeSkew(d).String(), ttl)
	}
}

// TestCertCreate: --cert-create makes and writes a key as keygen does, signs
// with it, and never overwrites silently.
func TestCertCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prefix := dir + string(filepath.Separator)
	args := []string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I",
		"--cert-create", "--cert-file-prefix", prefix, "--cert-create-expires-days", "30"}

	r := qsArgs(t, args...)
	keyPEM, err := os.ReadFile(filepath.Join(dir, "privatekey.pem"))
	require.NoError(t, err)
	addSecret(string(keyPEM))
	assertNoSecrets(t, r.stdout, r.stderr)
	d := token(t, r, filepath.Join(dir, "publickey.cer"))
	pub := certKey(t, filepath.Join(dir, "publickey.cer"))
	assert.Equal(t, `"`+thumbprint(pub)+`"`, d.hdr("kid"), "without --keyid the kid is the new key's thumbprint")
	assert.Equal(t, 3072, pub.N.BitLen())
	fi, err := os.Stat(filepath.Join(dir, "privatekey.pem"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Contains(t, r.stderr, "key ID:      "+thumbprint(pub))
	assert.Contains(t, r.stderr, "valid until 2026-12-29")

	// Again: refused, nothing changed.
	r = qsArgs(t, args...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "privatekey.pem")
	assert.Contains(t, r.stderr, "(--force)")
	again, err := os.ReadFile(filepath.Join(dir, "privatekey.pem"))
	require.NoError(t, err)
	assert.Equal(t, keyPEM, again)

	// With --force and --keyid: replaced, and the given key ID is used.
	r = qsArgs(t, append(args, "--force", "--keyid", "kid-9")...)
	again, err = os.ReadFile(filepath.Join(dir, "privatekey.pem"))
	require.NoError(t, err)
	addSecret(string(again))
	assertNoSecrets(t, r.stdout, r.stderr)
	assert.NotEqual(t, keyPEM, again)
	d = token(t, r, filepath.Join(dir, "publickey.cer"))
	assert.Equal(t, `"kid-9"`, d.hdr("kid"))

	// A claim Qlik would refuse: no files are written at all.
	empty := t.TempDir()
	r = qsArgs(t, "create-qseow", "--userdir", "d", "--userid", `a\b`, "--cert-create", "--cert-file-prefix", empty+string(filepath.Separator))
	assert.Equal(t, 2, r.code)
	entries, err := os.ReadDir(empty)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written when the token is refused")

	// Out-of-range days: a usage error before any work.
	r = qsArgs(t, "create-qseow", "--userdir", "d", "--userid", "u", "--cert-create", "--cert-create-expires-days", "0", "--cert-file-prefix", empty+"/")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "(--cert-create-expires-days)")
}

// TestCreateCloudThumbprintKeyID: the key ID keygen suggests, the key's RFC
// 7638 thumbprint (43 random-looking base64url characters), is a key ID,
// not key material given to the wrong flag.
func TestCreateCloudThumbprintKeyID(t *testing.T) {
	cert, err := os.ReadFile(certPath)
	require.NoError(t, err)
	c, err := qsjwt.ParseCertificate(cert)
	require.NoError(t, err)
	kid, err := qsjwt.Thumbprint(c.PublicKey)
	require.NoError(t, err)
	r := qsArgs(t, "create-qscloud", "--sub", "anna-42", "--username", "Anna", "--useremail", "anna@example.com",
		"--issuer", "tenant.eu.qlikcloud.com", "--keyid", kid, "--cert-privatekey-file", keyPath)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, strconv.Quote(kid), token(t, r, certPath).hdr("kid"))
}
