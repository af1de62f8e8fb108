package main

import (
	"bytes"
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
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedNow is the clock of every test, the one the testdata tokens were made
// for.
var fixedNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	clock = func() time.Time { return fixedNow } // set once, before any test runs
	for _, name := range []string{"test-only-rsa2048-pkcs8.pem", "test-only-rsa2048-pkcs1.pem", "test-only-rsa2048-pkcs8-aes256.pem",
		"test-only-rsa2048-pkcs1-aes256.pem", "test-only-rsa1024-pkcs8.pem", "test-only-ec-p256-pkcs8.pem", "test-only-rsa2048-bundle.pem"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			panic(err)
		}
		addSecret(privateBlocks(string(b)))
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
const fixturePassphrase = "test-only-passphrase"

func fixture(name string) string { return filepath.Join("..", "..", "testdata", name) }

var (
	keyPath  = fixture("test-only-rsa2048-pkcs8.pem")
	certPath = fixture("test-only-rsa2048.cer")
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	require.NoError(t, err)
	return string(b)
}

// secrets holds every base64 line of every private key the tests use, and
// the passphrase: no output of any test may contain one. Keys that tests
// generate are added with addSecret.
var secrets = struct {
	sync.Mutex
	lines map[string]bool
}{lines: map[string]bool{fixturePassphrase: true}}

func addSecret(pemText string) {
	secrets.Lock()
	defer secrets.Unlock()
	for _, l := range strings.Split(pemText, "\n") {
		l = strings.TrimSpace(l)
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") && !strings.Contains(l, ":") {
			secrets.lines[l] = true
		}
	}
}

// privateBlocks keeps only the private key blocks of a PEM text.
func privateBlocks(s string) string {
	var out []string
	in := false
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "-----BEGIN") {
			in = strings.Contains(l, "PRIVATE")
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func assertNoSecrets(t testing.TB, outputs ...string) {
	t.Helper()
	secrets.Lock()
	defer secrets.Unlock()
	for _, out := range outputs {
		for line := range secrets.lines {
			if strings.Contains(out, line) {
				t.Errorf("output contains key material or the passphrase: %q", line)
				return
			}
		}
	}
}

// result is one run of the command.
type runResult struct {
	code           int
	stdout, stderr string
}

type runOpts struct {
	stdin string
	env   map[string]string
}

// errLine is how every error line looks: the prefix, and the flag that
// fixes it at the end, or "in the token" for a problem inside a token.
var errLine = regexp.MustCompile(`^qs-jwt: \S.* \((--[a-z][a-z0-9-]*|in the token)\)$`)

// qs runs the command through run, and checks what every run must satisfy:
// no key material in any output, stdout empty on failure, and every error
// line in the agreed form.
func qs(t testing.TB, o runOpts, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(o.stdin), &stdout, &stderr, func(k string) string { return o.env[k] })
	r := runResult{code, stdout.String(), stderr.String()}
	assertNoSecrets(t, r.stdout, r.stderr)
	if code != 0 {
		assert.Empty(t, r.stdout, "nothing on stdout when %v fails", args)
		errors := 0
		for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if strings.HasPrefix(l, "qs-jwt: ") && !strings.HasPrefix(l, "qs-jwt: warning: ") {
				errors++
				assert.Regexp(t, errLine, l, "error line")
			}
		}
		assert.Positive(t, errors, "a failure prints at least one error line: %q", r.stderr)
	}
	return r
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

// certKey reads a certificate's RSA key with the standard library.
func certKey(t testing.TB, path string) *rsa.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert.PublicKey.(*rsa.PublicKey)
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

// thumbprint is RFC 7638 for an RSA key, computed here independently.
func thumbprint(pub *rsa.PublicKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return b64(sum[:])
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
	for _, c := range []string{"create-qseow", "create-qscloud", "decode", "keygen", "idp-config"} {
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

// TestSecretsLoaded guards the key-material check itself: it must know the
// fixture keys' lines, and catch one.
func TestSecretsLoaded(t *testing.T) {
	secrets.Lock()
	n := len(secrets.lines)
	secrets.Unlock()
	assert.Greater(t, n, 100)
	lines := strings.Split(readFixture(t, "test-only-rsa2048-pkcs8.pem"), "\n")
	ft := &testing.T{}
	assertNoSecrets(ft, "error: "+lines[3])
	assert.True(t, ft.Failed(), "a key line in an output is caught")
}
