// Package clitest holds what the tests of the qs-jwt command line (packages
// cli and cli/online) share: the module's fixtures, the secrets no output
// may contain, and a run of the command line that checks every output.
// Only tests import it.
package clitest

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FixedNow is the clock of every test, the one the testdata tokens were made
// for.
var FixedNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// FixturePassphrase encrypts the fixtures' encrypted keys.
const FixturePassphrase = "test-only-passphrase"

// Fixture is the path of a file in the module's testdata.
func Fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", name)
}

// ReadFixture reads a file in the module's testdata.
func ReadFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(Fixture(name))
	require.NoError(t, err)
	return string(b)
}

// secrets holds every base64 line of every private key the tests use, and
// the passphrase: no output of any test may contain one.
var secrets = struct {
	sync.Mutex
	lines map[string]bool
}{lines: map[string]bool{FixturePassphrase: true}}

// AddFixtureSecrets adds the private keys of the fixtures to the secrets;
// TestMain calls it before the tests run.
func AddFixtureSecrets() error {
	for _, name := range []string{"test-only-rsa2048-pkcs8.pem", "test-only-rsa2048-pkcs1.pem", "test-only-rsa2048-pkcs8-aes256.pem",
		"test-only-rsa2048-pkcs1-aes256.pem", "test-only-rsa1024-pkcs8.pem", "test-only-ec-p256-pkcs8.pem", "test-only-rsa2048-bundle.pem"} {
		b, err := os.ReadFile(Fixture(name))
		if err != nil {
			return err
		}
		AddSecret(PrivateBlocks(string(b)))
	}
	return nil
}

// AddSecret adds the base64 lines of a PEM text (or any text) to the
// secrets; tests add the keys they generate.
func AddSecret(pemText string) {
	secrets.Lock()
	defer secrets.Unlock()
	for _, l := range strings.Split(pemText, "\n") {
		l = strings.TrimSpace(l)
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") && !strings.Contains(l, ":") {
			secrets.lines[l] = true
		}
	}
}

// PrivateBlocks keeps only the private key blocks of a PEM text.
func PrivateBlocks(s string) string {
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

// AssertNoSecrets fails the test if an output holds a secret.
func AssertNoSecrets(t testing.TB, outputs ...string) {
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

// ErrLine is how every error line looks: the prefix, and the flag that
// fixes it at the end, or "in the token" for a problem inside a token.
var ErrLine = regexp.MustCompile(`^qs-jwt: \S.* \((--[a-z][a-z0-9-]*|in the token)\)$`)

// Main is cli.Main with its online commands bound.
type Main func(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int

// Run runs the command line and checks what every run must satisfy: no
// secret in any output, stdout empty on failure, and every error line in
// the agreed form.
func Run(t testing.TB, main Main, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = main(args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	stdout, stderr = out.String(), errOut.String()
	AssertNoSecrets(t, stdout, stderr)
	if code != 0 {
		assert.Empty(t, stdout, "nothing on stdout when %v fails", args)
		errors := 0
		for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if strings.HasPrefix(l, "qs-jwt: ") && !strings.HasPrefix(l, "qs-jwt: warning: ") {
				errors++
				assert.Regexp(t, ErrLine, l, "error line")
			}
		}
		assert.Positive(t, errors, "a failure prints at least one error line: %q", stderr)
	}
	return code, stdout, stderr
}

// RunAny runs the command line like Run, checking that no output holds a
// secret and that error lines have the agreed form, but allows output on
// stdout with a failure: the doctor prints its checklist and exits 1.
func RunAny(t testing.TB, main Main, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = main(args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	stdout, stderr = out.String(), errOut.String()
	AssertNoSecrets(t, stdout, stderr)
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "qs-jwt: ") && !strings.HasPrefix(l, "qs-jwt: warning: ") {
			assert.Regexp(t, ErrLine, l, "error line")
		}
	}
	return code, stdout, stderr
}

// WriteFile writes data to a file name in a new temporary directory and
// returns its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// Base64Body is a PEM text's base64 lines, joined.
func Base64Body(pemText string) string {
	var b strings.Builder
	for _, l := range strings.Split(pemText, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "-----") && !strings.Contains(l, ":") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// AssertNoRun fails when any 40-character run of secret appears in out,
// also once out's white space is removed (an error that folds lines).
func AssertNoRun(t testing.TB, secret string, outs ...string) {
	t.Helper()
	for _, out := range outs {
		flat := strings.Join(strings.Fields(out), "")
		for i := 0; i+40 <= len(secret); i++ {
			if run := secret[i : i+40]; strings.Contains(out, run) || strings.Contains(flat, run) {
				t.Errorf("output repeats 40 characters of a secret at offset %d: %q", i, out)
				return
			}
		}
	}
}

// JWKOf reads a public RSA JWK with encoding/json and math/big alone.
func JWKOf(t testing.TB, data []byte) (map[string]string, *rsa.PublicKey) {
	t.Helper()
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m), "%s", data)
	n, err := base64.RawURLEncoding.DecodeString(m["n"])
	require.NoError(t, err)
	e, err := base64.RawURLEncoding.DecodeString(m["e"])
	require.NoError(t, err)
	return m, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

// CertKey reads a certificate's RSA key with the standard library.
func CertKey(t testing.TB, path string) *rsa.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert.PublicKey.(*rsa.PublicKey)
}

// Thumbprint is RFC 7638 for an RSA key, computed here independently.
func Thumbprint(pub *rsa.PublicKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return b64(sum[:])
}
