package cli

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qsjwt/qsjwt/internal/cli/clitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedNow is the clock of every test, the one the testdata tokens were made
// for.
var fixedNow = clitest.FixedNow

func TestMain(m *testing.M) {
	Clock = func() time.Time { return fixedNow } // set once, before any test runs
	if err := clitest.AddFixtureSecrets(); err != nil {
		panic(err)
	}
	code := m.Run()
	for _, name := range []string{"privatekey.pem", "publickey.pem", "publickey.cer"} {
		if _, err := os.Stat(name); err == nil { // a test ran --cert-create or keygen without a prefix
			fmt.Fprintf(os.Stderr, "a test wrote %s into the package directory; give it a --cert-file-prefix under t.TempDir()\n", name)
			code = 1
		}
	}
	os.Exit(code)
}

// Fixtures, from the module's testdata.
const fixturePassphrase = clitest.FixturePassphrase

func fixture(name string) string { return filepath.Join("..", "..", "testdata", name) }

var (
	keyPath  = fixture("test-only-rsa2048-pkcs8.pem")
	certPath = fixture("test-only-rsa2048.cer")
)

var (
	readFixture     = clitest.ReadFixture
	addSecret       = clitest.AddSecret
	privateBlocks   = clitest.PrivateBlocks
	assertNoSecrets = clitest.AssertNoSecrets
	errLine         = clitest.ErrLine
	certKey         = clitest.CertKey
	thumbprint      = clitest.Thumbprint
	writeFile       = clitest.WriteFile
)

// result is one run of the command.
type runResult struct {
	code           int
	stdout, stderr string
}

type runOpts struct {
	stdin string
	env   map[string]string
}

// qs runs the command through run (clitest.Run checks every output).
func qs(t testing.TB, o runOpts, args ...string) runResult {
	t.Helper()
	code, stdout, stderr := clitest.Run(t, run, o.stdin, o.env, args...)
	return runResult{code, stdout, stderr}
}

// qsAny runs the command like qs, but allows output on stdout with a
// failure.
func qsAny(t testing.TB, env map[string]string, args ...string) runResult {
	t.Helper()
	code, stdout, stderr := clitest.RunAny(t, run, env, args...)
	return runResult{code, stdout, stderr}
}

func qsArgs(t testing.TB, args ...string) runResult { t.Helper(); return qs(t, runOpts{}, args...) }

// token checks that stdout is one token and a newline, nothing else, and
// verifies it with crypto/rsa and the key of the certificate at certFile.
func token(t testing.TB, r runResult, certFile string) decoded {
	t.Helper()
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	require.True(t, strings.HasSuffix(r.stdout, "\n"), "stdout ends with a newline")
	raw := strings.TrimSuffix(r.stdout, "\n")
	require.NotContains(t, raw, "\n", "stdout is the token alone")
	return verifyStdlib(t, raw, certKey(t, certFile))
}

// decoded is a token taken apart and checked with the standard library only.
type decoded struct {
	header, claims map[string]json.RawMessage
}

func (d decoded) claim(name string) string { return string(d.claims[name]) }
func (d decoded) hdr(name string) string   { return string(d.header[name]) }
func (d decoded) num(t testing.TB, name string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, json.Unmarshal(d.claims[name], &n), "claim %s is a number", name)
	return n
}

func verifyStdlib(t testing.TB, raw string, pub *rsa.PublicKey) decoded {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	var d decoded
	for i, dst := range []*map[string]json.RawMessage{&d.header, &d.claims} {
		js, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, dst))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	var alg string
	require.NoError(t, json.Unmarshal(d.header["alg"], &alg))
	var h hash.Hash
	var ch crypto.Hash
	switch alg {
	case "RS256":
		h, ch = sha256.New(), crypto.SHA256
	case "RS384":
		h, ch = sha512.New384(), crypto.SHA384
	case "RS512":
		h, ch = sha512.New(), crypto.SHA512
	default:
		t.Fatalf("alg %q", alg)
	}
	h.Write([]byte(parts[0] + "." + parts[1]))
	require.NoError(t, rsa.VerifyPKCS1v15(pub, ch, h.Sum(nil), sig), "the signature verifies with crypto/rsa")
	return d
}

// signStdlib makes an RS256 token from header and claims JSON with the
// fixture key and crypto/rsa alone, for decode's tests.
func signStdlib(t testing.TB, header, claims string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(readFixture(t, "test-only-rsa2048-pkcs8.pem")))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	require.NoError(t, err)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

type topCase struct {
	name   string
	args   []string
	code   int
	stdout string // a part of stdout
	stderr string // a part of stderr
}

func TestTopLevel(t *testing.T) {
	tests := []topCase{
		{"no command", nil, 2, "", "no command given"},
		{"unknown command", []string{"create"}, 2, "", `unknown command "create"`},
		{"help", []string{"--help"}, 0, "create-qscloud", ""},
		{"-h", []string{"-h"}, 0, "Exit codes", ""},
		{"help command", []string{"help", "keygen"}, 0, "Usage: qs-jwt keygen", ""},
		{"version", []string{"--version"}, 0, "qs-jwt ", ""},
		{"version word", []string{"version"}, 0, "qs-jwt ", ""},
	}
	for _, c := range []string{"create-qseow", "create-qscloud", "decode", "keygen"} { // idp-config: package online
		tests = append(tests,
			topCase{c + " --help", []string{c, "--help"}, 0, "Usage: qs-jwt " + c, ""},
			topCase{c + " -h", []string{c, "-h"}, 0, "--minimal-output", ""},
			topCase{c + " --version", []string{c, "--version"}, 0, "qs-jwt ", ""},
			topCase{c + " unknown flag", []string{c, "--nope"}, 2, "", `unknown flag "--nope" for ` + c},
			topCase{c + " positional argument", []string{c, "extra"}, 2, "", `unexpected argument 1 (a value of 5 characters)`},
			topCase{c + " bad loglevel", []string{c, "--loglevel", "loud"}, 2, "", "(--loglevel)"},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stdout, tc.stdout)
			assert.Contains(t, r.stderr, tc.stderr)
			if tc.code == 0 {
				assert.Empty(t, r.stderr)
			}
		})
	}
}
