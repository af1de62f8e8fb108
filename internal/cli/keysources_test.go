package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/qsjwt/qsjwt/internal/cli/clitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pfxEnv = map[string]string{"PASS": fixturePassphrase, "WRONG": "not-the-password"}

// TestPFX signs with the key of each kind of PFX the QMC, Windows and
// openssl write, and checks the token with crypto/rsa against the
// certificate of the same key; decode and idp-config read its certificate.
func TestPFX(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, pass string }{
		{"test-only-rsa2048-legacy.pfx", "PASS"},
		{"test-only-rsa2048-aes256.pfx", "PASS"},
		{"test-only-rsa2048-nopass.pfx", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			args := cat(qseowArgs, []string{"--cert-privatekey-pfx", fixture(tc.file)})
			if tc.pass != "" {
				args = append(args, "--passphrase-env", tc.pass)
			}
			r := qs(t, runOpts{env: pfxEnv}, args...)
			token(t, r, certPath)
		})
	}
	t.Run("decode with the PFX's certificate", func(t *testing.T) {
		tok := qsArgs(t, cat(qseowArgs, []string{"--cert-privatekey-file", keyPath})...)
		require.Equal(t, 0, tok.code)
		r := qs(t, runOpts{stdin: tok.stdout, env: pfxEnv}, "decode", "--jwt-file", "-", "--cert-privatekey-pfx", fixture("test-only-rsa2048-aes256.pfx"), "--passphrase-env", "PASS")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "QSEoW would accept this token")
	})
}

func TestPFXFailures(t *testing.T) {
	t.Parallel()
	aes := fixture("test-only-rsa2048-aes256.pfx")
	tests := []struct {
		name string
		args []string
		code int
		flag string
		want string
	}{
		{"no password", cat(qseowArgs, []string{"--cert-privatekey-pfx", aes}), 1, "--passphrase-env", "the PFX is protected by a password: put it in an environment variable"},
		{"wrong password", cat(qseowArgs, []string{"--cert-privatekey-pfx", aes, "--passphrase-env", "WRONG"}), 1, "--passphrase-env", "the password in environment variable WRONG does not open the PFX"},
		{"unset variable", cat(qseowArgs, []string{"--cert-privatekey-pfx", aes, "--passphrase-env", "UNSET"}), 1, "--passphrase-env", "environment variable UNSET is empty or not set"},
		{"a PEM key", cat(qseowArgs, []string{"--cert-privatekey-pfx", keyPath}), 1, "--cert-privatekey-pfx", "PEM text, not a PFX"},
		{"over the iteration cap", cat(qseowArgs, []string{"--cert-privatekey-pfx", fixture("test-only-rsa2048-iter600001.pfx"), "--passphrase-env", "PASS"}), 1, "--cert-privatekey-pfx", "over qsjwt's limit"},
		{"missing file", cat(qseowArgs, []string{"--cert-privatekey-pfx", "no/such.pfx"}), 1, "--cert-privatekey-pfx", `cannot read "no/such.pfx"`},
		{"with another key", cat(qseowArgs, []string{"--cert-privatekey-pfx", aes, "--cert-privatekey-file", keyPath}), 2, "--cert-privatekey-pfx", "give the signing key twice"},
		{"decode: with --cert-publickey-file", []string{"decode", "--jwt-file", cloudJWT, "--cert-privatekey-pfx", aes, "--cert-publickey-file", certPath}, 2, "--cert-privatekey-pfx", "both give the key"},
		{"decode: --passphrase-env alone", []string{"decode", "--jwt-file", cloudJWT, "--cert-publickey-file", certPath, "--passphrase-env", "PASS"}, 2, "--passphrase-env", "password of a PFX"},
		{"decode: wrong password", []string{"decode", "--jwt-file", cloudJWT, "--cert-privatekey-pfx", aes, "--passphrase-env", "WRONG"}, 1, "--passphrase-env", "does not open the PFX"},
		{"decode: token and PFX both on stdin", []string{"decode", "--jwt-file", "-", "--cert-privatekey-pfx", "-"}, 2, "--cert-publickey-file", "the token and the key cannot both come from stdin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, runOpts{env: pfxEnv}, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n")
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stderr, "not-the-password")
		})
	}
}

func TestKeygenJWK(t *testing.T) {
	t.Parallel()
	r, prefix := keygen(t, "--bits", "2048", "--jwk")
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(prefix + "publickey.jwk")
	require.NoError(t, err)
	fi, err := os.Stat(prefix + "publickey.jwk")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	m, pub := clitest.JWKOf(t, data)
	cert := certKey(t, prefix+"publickey.cer")
	assert.True(t, cert.Equal(pub), "the JWK is the certificate's key")
	assert.Equal(t, thumbprint(cert), m["kid"], "kid is the RFC 7638 thumbprint")
	assert.Equal(t, "RSA", m["kty"])
	assert.Equal(t, "RS256", m["alg"])
	assert.Equal(t, "sig", m["use"])
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		assert.NotContains(t, m, private)
	}
	assert.Contains(t, r.stdout, "JWK:         "+prefix+"publickey.jwk")

	// Again: every file exists, nothing is replaced.
	before, _ := os.ReadFile(prefix + "privatekey.pem")
	r = qsArgs(t, "keygen", "--cert-file-prefix", prefix, "--jwk")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "publickey.jwk\" exists; nothing was written")
	after, _ := os.ReadFile(prefix + "privatekey.pem")
	assert.Equal(t, before, after)

	// With --force, all four are replaced by one new set.
	r = qsArgs(t, "keygen", "--cert-file-prefix", prefix, "--jwk", "--force")
	require.Equal(t, 0, r.code, r.stderr)
	newKey, _ := os.ReadFile(prefix + "privatekey.pem")
	addSecret(string(newKey))
	data, err = os.ReadFile(prefix + "publickey.jwk")
	require.NoError(t, err)
	_, pub = clitest.JWKOf(t, data)
	assert.True(t, certKey(t, prefix+"publickey.cer").Equal(pub), "the new JWK is the new certificate's key")
}

func TestKeygenJWKNothingWritten(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "k-")
	require.NoError(t, os.WriteFile(prefix+"publickey.jwk", []byte("{}"), 0o644))
	r := qsArgs(t, "keygen", "--cert-file-prefix", prefix, "--jwk")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "(--force)")
	for _, f := range []string{"privatekey.pem", "publickey.pem", "publickey.cer"} {
		assert.NoFileExists(t, prefix+f, "a JWK in the way leaves no other file behind")
	}
	data, _ := os.ReadFile(prefix + "publickey.jwk")
	assert.Equal(t, "{}", string(data), "the existing file is untouched")

	r = qsArgs(t, "keygen", "--cert-file-prefix", prefix, "--type", "ec", "--jwk")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "(--jwk)")
}

// TestPKCS11NotBuiltIn: the default build has the flag and says how to get
// a build that can use it.
func TestPKCS11NotBuiltIn(t *testing.T) {
	t.Parallel()
	r := qsArgs(t, cat(qseowArgs, []string{"--cert-privatekey-pkcs11", "pkcs11:token=qlik;object=jwt?pin-value=" + fixturePassphrase})...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "this qs-jwt was built without PKCS #11 support: build it with scripts/build-qs-jwt-pkcs11.sh")
	assert.Contains(t, r.stderr, "(--cert-privatekey-pkcs11)\n")
}

// TestPKCS11Build builds qs-jwt with scripts/build-qs-jwt-pkcs11.sh (cgo, the
// pkcs11 module) and signs with a key in a SoftHSM2 token.
func TestPKCS11Build(t *testing.T) {
	if testing.Short() {
		t.Skip("builds qs-jwt with cgo; not in -short")
	}
	conf, module, pub := softHSM(t)
	needTools(t, "cc")
	bin := filepath.Join(t.TempDir(), "qs-jwt-pkcs11")
	build := exec.Command("sh", filepath.Join("..", "..", "scripts", "build-qs-jwt-pkcs11.sh"), bin)
	build.Env = append(os.Environ(), "PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build: %s", out)

	uri := "pkcs11:token=qlik;object=jwt?module-path=" + module
	runBin := func(pinEnv string, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), strings.ReplaceAll(conf, "'", ""), "HSM_PIN="+pinEnv)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return stdout.String(), stderr.String(), code
	}
	stdout, stderr, code := runBin("1234", cat(qseowArgs, []string{"--cert-privatekey-pkcs11", uri, "--passphrase-env", "HSM_PIN"})...)
	require.Equal(t, 0, code, stderr)
	verifyStdlib(t, strings.TrimSpace(stdout), publicKeyFile(t, pub))

	stdout, stderr, code = runBin("9999", cat(qseowArgs, []string{"--cert-privatekey-pkcs11", uri, "--passphrase-env", "HSM_PIN"})...)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "CKR_PIN_INCORRECT")
	assert.NotContains(t, stderr, "9999")

	_, stderr, code = runBin("", cat(qseowArgs, []string{"--cert-privatekey-pkcs11", uri + "&pin-value=4321"})...)
	assert.Equal(t, 1, code)
	assert.NotContains(t, stderr, "4321", "a pin-value in the URI is never printed")
}
