package cli

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needTools skips the test, saying what is missing, unless every tool is on
// PATH.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: this test runs it for real (apt-get install -y openssl softhsm2 opensc)", tool)
		}
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var qseowArgs = []string{"create-qseow", "--userdir", "CORP", "--userid", "anna"}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestSignCommand signs with real commands: openssl given the signing input
// (the default) and given its digest (--sign-input digest). Every token is
// verified with crypto/rsa against the certificate.
func TestSignCommand(t *testing.T) {
	needTools(t, "openssl")
	t.Parallel()
	key := shellQuote(keyPath)
	cloud := []string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--keyid", "K"}
	tests := []struct {
		name string
		args []string
		alg  string
	}{
		{"message: openssl dgst", cat(qseowArgs, []string{"--sign-command", "openssl dgst -sha256 -sign " + key}), "RS256"},
		{"digest: openssl pkeyutl", cat(qseowArgs, []string{"--sign-input", "digest", "--sign-command", "openssl pkeyutl -sign -inkey " + key + " -pkeyopt digest:sha256"}), "RS256"},
		{"RS512, message", cat(qseowArgs, []string{"--alg", "RS512", "--sign-command", "openssl dgst -sha512 -sign " + key}), "RS512"},
		{"RS384, digest", cat(qseowArgs, []string{"--alg", "RS384", "--sign-input", "digest", "--sign-command", "openssl pkeyutl -sign -inkey " + key + " -pkeyopt digest:sha384"}), "RS384"},
		{"Qlik Cloud", cat(cloud, []string{"--sign-command", "openssl dgst -sha256 -sign " + key}), "RS256"},
		{"a pipeline", cat(qseowArgs, []string{"--sign-command", "openssl dgst -sha256 -sign " + key + " | base64 | base64 -d"}), "RS256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, append(tc.args, "--cert-publickey-file", certPath)...)
			d := token(t, r, certPath)
			assert.Equal(t, `"`+tc.alg+`"`, d.hdr("alg"))
		})
	}
}

// TestSignCommandFailures: each way the command can fail exits 1 and says
// which, naming --sign-command, and never prints the command line.
func TestSignCommandFailures(t *testing.T) {
	needTools(t, "openssl")
	t.Parallel()
	dir := t.TempDir()
	other := filepath.Join(dir, "other.pem")
	out, err := exec.Command("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other).CombinedOutput()
	require.NoError(t, err, "%s", out)
	otherPEM, err := os.ReadFile(other)
	require.NoError(t, err)
	addSecret(string(otherPEM))
	small := filepath.Join(dir, "small.pub")
	out, err = exec.Command("sh", "-c", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 | openssl pkey -pubout -out "+shellQuote(small)).CombinedOutput()
	require.NoError(t, err, "%s", out)

	key := shellQuote(keyPath)
	const marker = "CMD-LINE-MARKER" // in every command line: it must never be printed back
	tests := []struct {
		name    string
		command string
		extra   []string
		code    int
		flag    string
		want    string
	}{
		{"non-zero exit, stderr passes through", "echo 'token locked' >&2; exit 3 # " + marker, nil, 1, "--sign-command", "failed (exit status 3); its own messages, if any, are above"},
		{"not found", "no-such-signer # " + marker, nil, 1, "--sign-command", "the shell did not find the command"},
		{"garbage", "printf 'garbage' # " + marker, nil, 1, "--sign-command", "printed 7 bytes on stdout, not the 256-byte signature an RSA-2048 key makes"},
		{"base64 instead of raw", "openssl dgst -sha256 -sign " + key + " | base64 # " + marker, nil, 1, "--sign-command", "bytes of base64 text, not the raw 256-byte signature: decode it in the command, e.g. | base64 -d"},
		{"hex instead of raw", "openssl dgst -sha256 -sign " + key + " | od -An -tx1 # " + marker, nil, 1, "--sign-command", "bytes of hex text"},
		{"nothing", "true " + marker, nil, 1, "--sign-command", "printed nothing on stdout"},
		{"wrong key", "openssl dgst -sha256 -sign " + shellQuote(other) + " # " + marker, nil, 1, "--sign-command", "does not verify with the key in --cert-publickey-file: the command signs with another key"},
		{"message signer given the digest", "openssl dgst -sha256 -sign " + key + " # " + marker, []string{"--sign-input", "digest"}, 1, "--sign-command", "of the SHA-256 digest on its stdin (--sign-input digest)"},
		{"wrong hash", "openssl dgst -sha512 -sign " + key + " # " + marker, nil, 1, "--sign-command", "does not make an RS256 signature"},
		{"timeout", "sleep 60 # " + marker, []string{"--sign-timeout", "200ms"}, 1, "--sign-command", "did not finish within 200ms and was stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, cat(qseowArgs, []string{"--sign-command", tc.command, "--cert-publickey-file", certPath}, tc.extra)...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n")
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stdout+r.stderr, marker, "the command line is never printed")
		})
	}

	t.Run("stderr passes through", func(t *testing.T) {
		r := qsArgs(t, cat(qseowArgs, []string{"--sign-command", "echo 'token locked' >&2; exit 3", "--cert-publickey-file", certPath})...)
		assert.True(t, strings.HasPrefix(r.stderr, "token locked\n"), "the command's stderr comes first: %q", r.stderr)
	})
	ecPub := filepath.Join(dir, "ec.pub")
	out, err = exec.Command("openssl", "pkey", "-in", fixture("test-only-ec-p256-pkcs8.pem"), "-pubout", "-out", ecPub).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, pub := range []struct{ name, file, want string }{
		{"EC P-256", ecPub, "an ECDSA key (ECDSA P-256) cannot make the RS256/RS384/RS512 signatures Qlik checks; create an RSA key of at least 2048 bits in the HSM or KMS"},
		{"EC secp256k1", fixture("test-only-ec-secp256k1-public.pem"), "is of a type Qlik cannot use (ECDSA secp256k1); Qlik needs RSA: create an RSA key of at least 2048 bits in the HSM or KMS"},
	} {
		t.Run(pub.name+" key gets advice for an HSM or KMS", func(t *testing.T) {
			r := qsArgs(t, cat(qseowArgs, []string{"--sign-command", "true", "--cert-publickey-file", pub.file})...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, pub.want)
			assert.Contains(t, r.stderr, "(--cert-publickey-file)\n")
			assert.NotContains(t, r.stderr, "keygen")
		})
	}
	t.Run("a 1024-bit key gets advice for an HSM or KMS, not keygen", func(t *testing.T) {
		r := qsArgs(t, cat(qseowArgs, []string{"--sign-command", "true", "--cert-publickey-file", small})...)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "RSA key has 1024 bits; Qlik needs at least 2048 (create an RSA key of at least 2048 bits in the HSM or KMS")
		assert.NotContains(t, r.stderr, "keygen")
	})
}

func TestSignCommandUsage(t *testing.T) {
	t.Parallel()
	cmd := []string{"--sign-command", "openssl dgst -sha256 -sign k.pem"}
	tests := []struct {
		name string
		args []string
		flag string
		want string
	}{
		{"no public key", cmd, "--cert-publickey-file", "--sign-command needs the certificate or public key of its key in --cert-publickey-file"},
		{"with a key file", cat(cmd, []string{"--cert-publickey-file", certPath, "--cert-privatekey-file", keyPath}), "--sign-command", "--cert-privatekey-file and --sign-command give the signing key twice"},
		{"--sign-input alone", []string{"--cert-privatekey-file", keyPath, "--sign-input", "digest"}, "--sign-command", "--sign-input is used only with --sign-command"},
		{"--cert-publickey-file alone", []string{"--cert-privatekey-file", keyPath, "--cert-publickey-file", certPath}, "--sign-command", "--cert-publickey-file is used only with --sign-command"},
		{"--sign-timeout alone", []string{"--cert-privatekey-file", keyPath, "--sign-timeout", "5s"}, "--sign-timeout", "used only with --sign-command or --cert-privatekey-pkcs11"},
		{"bad --sign-timeout", cat(cmd, []string{"--cert-publickey-file", certPath, "--sign-timeout", "soon"}), "--sign-timeout", "is not a duration"},
		{"bad --sign-input", cat(cmd, []string{"--cert-publickey-file", certPath, "--sign-input", "hash"}), "--sign-input", "give one of message, digest"},
		{"with --passphrase-env", cat(cmd, []string{"--cert-publickey-file", certPath, "--passphrase-env", "PASS"}), "--passphrase-env", "not used with --sign-command"},
		{"empty", []string{"--sign-command", "", "--cert-publickey-file", certPath}, "--sign-command", "--sign-command is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, cat(qseowArgs, tc.args)...)
			assert.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n")
			assert.Contains(t, r.stderr, tc.want)
		})
	}
}

// softHSM makes a SoftHSM2 token holding an RSA-2048 key pair made in the
// token, and returns the environment assignment that selects it, the
// module's path and the public key's PEM file. The user PIN is 1234.
func softHSM(t *testing.T) (conf, module, pubPEM string) {
	t.Helper()
	needTools(t, "softhsm2-util", "pkcs11-tool", "openssl")
	for _, m := range []string{os.Getenv("QSJWT_SOFTHSM2_MODULE"), "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(m); m != "" && err == nil {
			module = m
			break
		}
	}
	if module == "" {
		t.Skip("libsofthsm2.so not found (apt-get install -y softhsm2, or set QSJWT_SOFTHSM2_MODULE)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tokens"), 0o700))
	confFile := filepath.Join(dir, "softhsm2.conf")
	require.NoError(t, os.WriteFile(confFile, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600))
	conf = "SOFTHSM2_CONF=" + shellQuote(confFile)
	pub := filepath.Join(dir, "pub.pem")
	script := conf + " softhsm2-util --init-token --free --label qlik --so-pin 5678 --pin 1234 >/dev/null && " +
		conf + " pkcs11-tool --module " + module + " --token-label qlik --login --pin 1234 --keypairgen --key-type rsa:2048 --label jwt --id 01 >/dev/null && " +
		conf + " pkcs11-tool --module " + module + " --token-label qlik --read-object --type pubkey --label jwt 2>/dev/null | openssl pkey -pubin -inform DER -out " + shellQuote(pub)
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "making the SoftHSM2 token: %s", out)
	return conf, module, pub
}

// TestSignCommandPKCS11Tool signs with a key that never leaves a SoftHSM2
// token, through pkcs11-tool, the README's example; the PIN is in the
// command line, which is never printed.
func TestSignCommandPKCS11Tool(t *testing.T) {
	conf, module, pub := softHSM(t)
	command := conf + " pkcs11-tool --module " + module + " --token-label qlik --login --pin 1234 --sign -m SHA256-RSA-PKCS --label jwt"
	r := qsArgs(t, cat(qseowArgs, []string{"--sign-command", command, "--cert-publickey-file", pub})...)
	require.Equal(t, 0, r.code, r.stderr)
	verifyStdlib(t, strings.TrimSpace(r.stdout), publicKeyFile(t, pub))

	wrongPIN := strings.Replace(command, "--pin 1234", "--pin 9999", 1)
	r = qsArgs(t, cat(qseowArgs, []string{"--sign-command", wrongPIN, "--cert-publickey-file", pub})...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "the --sign-command failed (exit status 1)")
	assert.NotContains(t, r.stdout+r.stderr, "9999", "the PIN in the command line")
}

// publicKeyFile reads a PKIX public key PEM file with the standard library.
func publicKeyFile(t *testing.T, path string) *rsa.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	return k.(*rsa.PublicKey)
}
