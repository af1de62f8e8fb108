package cli

import (
	"strings"
	"testing"

	"github.com/qsjwt/qsjwt/internal/cli/clitest"
	"github.com/stretchr/testify/assert"
)

// TestNoSecretEchoed gives every secret-bearing input of the CLI a real key,
// a real passphrase or a real token, also where another value belongs, and
// checks that no output repeats it: no 40-character run of the key's base64
// or of the token, and not the passphrase. Each case must also fail with the
// flag it names, so that a case cannot pass by doing nothing.
func TestNoSecretEchoed(t *testing.T) {
	key := readFixture(t, "test-only-rsa2048-pkcs8.pem")
	body := clitest.Base64Body(key)
	literalNL := strings.ReplaceAll(key, "\n", `\n`)
	line := strings.Split(key, "\n")[2] // one base64 line of 64 characters
	encrypted := fixture("test-only-rsa2048-pkcs8-aes256.pem")
	pfx := fixture("test-only-rsa2048-aes256.pfx")
	token := strings.TrimSpace(readFixture(t, "test-only-cloud-openssl.jwt"))
	tokenB64 := strings.ReplaceAll(token, ".", "")
	const identPass = "hunter2horse" // a passphrase that reads as a variable name
	env := map[string]string{"QS_JWT_KEY": key, "PASS": fixturePassphrase, "BODY": body}

	qseow := []string{"create-qseow", "--userdir", "d", "--userid", "u"}
	cloud := []string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--keyid", "K"}
	withKey := func(base []string, args ...string) []string {
		return append(append(append([]string{}, base...), args...), "--cert-privatekey-file", keyPath)
	}
	cat := func(base []string, args ...string) []string { return append(append([]string{}, base...), args...) }
	decode := []string{"decode", "--jwt-file", cloudJWT}

	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		flag  string // the flag the error names
		want  string // a part of stderr: the slip recognised
	}{
		// The key as the command.
		{"PEM as the command", "", []string{key}, 2, "--help", "looks like a PEM key, not a command"},
		{"PEM after help", "", []string{"help", key}, 2, "--help", "not a command"},
		{"passphrase as the command", "", []string{fixturePassphrase}, 2, "--help", "a value of 20 characters, not a command"},
		// The key where its variable's name belongs.
		{"PEM to --cert-privatekey-env", "", cat(qseow, "--cert-privatekey-env", key), 2, "--cert-privatekey-env", "looks like a PEM key, not a variable name"},
		{"PEM with literal \\n to --cert-privatekey-env", "", cat(qseow, "--cert-privatekey-env", literalNL), 2, "--cert-privatekey-env", "looks like a PEM key"},
		{"base64 line to --cert-privatekey-env", "", cat(qseow, "--cert-privatekey-env", line), 2, "--cert-privatekey-env", "looks like key material"},
		{"base64 body to --cert-privatekey-env", "", cat(qseow, "--cert-privatekey-env", body), 2, "--cert-privatekey-env", "looks like key material"},
		{"PEM to --cert-privatekey-env=", "", cat(qseow, "--cert-privatekey-env="+key), 2, "--cert-privatekey-env", "not a variable name"},
		{"lower-case name not set", "", cat(qseow, "--cert-privatekey-env", "qs_jwt_key"), 1, "--cert-privatekey-env", "names (10 characters, not repeated"},
		// The key where its file's path belongs.
		{"PEM to --cert-privatekey-file", "", cat(qseow, "--cert-privatekey-file", key), 2, "--cert-privatekey-file", "looks like a PEM key, not a file path"},
		{"base64 line to --cert-privatekey-file", "", cat(qseow, "--cert-privatekey-file", line), 2, "--cert-privatekey-file", "not a file path"},
		{"passphrase to --cert-privatekey-file", "", cat(qseow, "--cert-privatekey-file", fixturePassphrase), 1, "--cert-privatekey-file", "cannot read the file --cert-privatekey-file names (a value of 20 characters)"},
		{"token to --cert-privatekey-file", "", cat(qseow, "--cert-privatekey-file", token), 2, "--cert-privatekey-file", "looks like a token"},
		// The passphrase where its variable's name belongs.
		{"passphrase to --passphrase-env", "", cat(qseow, "--cert-privatekey-file", encrypted, "--passphrase-env", fixturePassphrase), 2, "--passphrase-env", "not an environment variable name"},
		{"passphrase with spaces to --passphrase-env", "", cat(qseow, "--cert-privatekey-file", encrypted, "--passphrase-env", "the "+fixturePassphrase), 2, "--passphrase-env", "give the variable's NAME, not the passphrase itself"},
		{"name-like passphrase to --passphrase-env", "", cat(qseow, "--cert-privatekey-file", encrypted, "--passphrase-env", identPass), 1, "--passphrase-env", "not repeated"},
		{"passphrase to --cert-privatekey-env", "", cat(qseow, "--cert-privatekey-env", fixturePassphrase), 2, "--cert-privatekey-env", "not an environment variable name"},
		{"wrong passphrase variable", "", cat(qseow, "--cert-privatekey-file", encrypted, "--passphrase-env", "QS_JWT_KEY"), 1, "--passphrase-env", "does not decrypt"},
		// The key or passphrase without a flag, or to a flag that takes none.
		{"PEM without its flag", "", withKey(qseow, key), 2, "--help", "given without its flag"},
		{"PEM after --", "", withKey(qseow, "--", key), 2, "--help", "given without its flag"},
		{"base64 line without its flag", "", withKey(qseow, line), 2, "--help", "given without its flag"},
		{"passphrase without its flag", "", cat(qseow, "--cert-privatekey-file", encrypted, "--passphrase-env", "PASS", fixturePassphrase), 2, "--help", "unexpected argument 9 (a value of 20 characters)"},
		{"name-like passphrase without its flag", "", withKey(qseow, identPass), 2, "--help", "unexpected argument 5 (a value of 12 characters)"},
		{"PEM as a flag", "", withKey(qseow, "-"+key), 2, "--help", "given without its flag"},
		{"PEM after a boolean flag", "", cat(cloud, "--cert-privatekey-file", keyPath, "--useremail-verified", key), 2, "--help", "given without its flag"},
		{"passphrase after a boolean flag", "", cat(cloud, "--cert-privatekey-file", keyPath, "--useremail-verified", fixturePassphrase), 2, "--useremail-verified", "the next argument is a value of 20 characters"},
		{"PEM after a list flag", "", withKey(qseow, "--groups", "g1", key), 2, "--help", "given without its flag"},
		{"token without its flag", "", cat(decode, token), 2, "--help", "looks like a token"},
		// The key to flags that take no secret.
		{"PEM to --userid", "", withKey([]string{"create-qseow", "--userdir", "d"}, "--userid", key), 2, "--userid", "it belongs in no claim or option"},
		{"PEM to --groups", "", withKey(qseow, "--groups", "g1", "-x"+key), 2, "--help", "given without its flag"},
		{"base64 line to --groups", "", withKey(qseow, "--groups", "g1", line), 2, "--groups", "looks like key material"},
		{"PEM to --claim", "", withKey(qseow, "--claim", "k="+key), 2, "--claim", "it belongs in no claim or option"},
		{"PEM to --issuer", "", cat([]string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--keyid", "K", "--cert-privatekey-file", keyPath}, "--issuer", key), 2, "--issuer", "looks like a PEM key"},
		{"base64 line to --keyid", "", cat([]string{"create-qscloud", "--sub", "s", "--username", "N", "--useremail", "n@example.com", "--issuer", "I", "--cert-privatekey-file", keyPath}, "--keyid", line), 2, "--keyid", "looks like key material"},
		{"PEM to --expires", "", withKey(qseow, "--expires", key), 2, "--expires", "looks like a PEM key"},
		{"PEM to --alg", "", withKey(qseow, "--alg", key), 2, "--alg", "looks like a PEM key"},
		{"passphrase to --loglevel", "", withKey(qseow, "--loglevel", fixturePassphrase), 2, "--loglevel", "--loglevel a value of 20 characters: give one of"},
		{"PEM to --useremail-verified=", "", cat(cloud, "--cert-privatekey-file", keyPath, "--useremail-verified="+key), 2, "--useremail-verified", "looks like a PEM key"},
		{"PEM to --days", "", []string{"keygen", "--days", key}, 2, "--days", "looks like a PEM key"},
		{"PEM to --cert-file-prefix", "", []string{"keygen", "--cert-file-prefix", key}, 2, "--cert-file-prefix", "not a file path"},
		{"PEM to --cert-create-expires-days", "", cat(qseow, "--cert-create", "--cert-create-expires-days", key), 2, "--cert-create-expires-days", "looks like a PEM key"},
		// The key text itself, refused for another reason.
		{"two key flags", "", cat(qseow, "--cert-privatekey", key, "--cert-privatekey-env", "QS_JWT_KEY"), 2, "--cert-privatekey", "give only one of"},
		{"passphrase to --cert-privatekey", "", cat(qseow, "--cert-privatekey", fixturePassphrase), 1, "--cert-privatekey", "a value of 20 characters has no -----BEGIN line"},
		{"passphrase to --jwt", "", []string{"decode", "--jwt", fixturePassphrase}, 1, "in the token", "malformed token"},
		{"passphrase to --jwt-file", "", []string{"decode", "--jwt-file", fixturePassphrase}, 1, "--jwt-file", "cannot read the file --jwt-file names (a value of 20 characters)"},
		{"passphrase to --cert-publickey", "", cat(decode, "--cert-publickey", fixturePassphrase), 1, "--cert-publickey", ""},
		{"base64 body to --cert-privatekey", "", cat(qseow, "--cert-privatekey", body), 1, "--cert-privatekey", "has no -----BEGIN line"},
		{"key variable holds the base64 body", "", cat(qseow, "--cert-privatekey-env", "BODY"), 1, "--cert-privatekey-env", "without its -----BEGIN and -----END lines"},
		// decode and idp-config: the key, and the token, where a path belongs.
		{"PEM to --cert-publickey-file", "", cat(decode, "--cert-publickey-file", key), 2, "--cert-publickey-file", "looks like a PEM key, not a file path"},
		{"private PEM to --cert-publickey", "", cat(decode, "--cert-publickey", key), 1, "--cert-publickey", "private key"},
		{"private PEM on stdin as the public key", key, cat(decode, "--cert-publickey-file", "-"), 1, "--cert-publickey-file", "private key"},
		{"PEM to --jwt", "", []string{"decode", "--jwt", key}, 2, "--jwt", "not a token"},
		{"token to --jwt-file", "", []string{"decode", "--jwt-file", token}, 2, "--jwt-file", "looks like a token (JWT), not a file path: give the token with --jwt"},
		{"token to --cert-publickey-file", "", cat(decode, "--cert-publickey-file", token), 2, "--cert-publickey-file", "looks like a token"},
		{"token to --expected-issuer", "", cat(decode, "--cert-publickey-file", certPath, "--expected-issuer", token), 2, "--expected-issuer", "looks like a token"},
		{"PEM to --variant", "", cat(decode, "--cert-publickey-file", certPath, "--variant", key), 2, "--variant", "looks like a PEM key"},
		// Keys that live elsewhere (issue 14): a PFX, a command that signs, a PKCS #11 URI.
		{"PEM to --cert-privatekey-pfx", "", cat(qseow, "--cert-privatekey-pfx", key), 2, "--cert-privatekey-pfx", "looks like a PEM key, not a file path: give the PFX file's path"},
		{"passphrase to --cert-privatekey-pfx", "", cat(qseow, "--cert-privatekey-pfx", fixturePassphrase), 1, "--cert-privatekey-pfx", "cannot read the file --cert-privatekey-pfx names (a value of 20 characters)"},
		{"passphrase to --passphrase-env with a PFX", "", cat(qseow, "--cert-privatekey-pfx", pfx, "--passphrase-env", fixturePassphrase), 2, "--passphrase-env", "not an environment variable name"},
		{"key variable as the PFX password", "", cat(qseow, "--cert-privatekey-pfx", pfx, "--passphrase-env", "QS_JWT_KEY"), 1, "--passphrase-env", "does not open the PFX"},
		{"name-like passphrase as the PFX password variable", "", cat(qseow, "--cert-privatekey-pfx", pfx, "--passphrase-env", identPass), 1, "--passphrase-env", "not repeated"},
		{"PFX key file as the PFX", "", cat(qseow, "--cert-privatekey-pfx", keyPath), 1, "--cert-privatekey-pfx", "PEM text, not a PFX"},
		{"decode: PEM to --cert-privatekey-pfx", "", cat(decode, "--cert-privatekey-pfx", key), 2, "--cert-privatekey-pfx", "not a file path"},
		{"decode: key variable as the PFX password", "", cat(decode, "--cert-privatekey-pfx", pfx, "--passphrase-env", "QS_JWT_KEY"), 1, "--passphrase-env", "does not open the PFX"},
		{"PEM to --sign-command", "", cat(qseow, "--sign-command", key, "--cert-publickey-file", certPath), 2, "--sign-command", "looks like a PEM key, not a command"},
		{"token to --sign-command", "", cat(qseow, "--sign-command", token, "--cert-publickey-file", certPath), 2, "--sign-command", "looks like a token (JWT), not a command"},
		{"passphrase in a failing --sign-command", "", cat(qseow, "--sign-command", "false --pin "+fixturePassphrase, "--cert-publickey-file", certPath), 1, "--sign-command", "failed (exit status 1)"},
		{"passphrase in a --sign-command that prints nothing", "", cat(qseow, "--sign-command", "true --pin "+identPass, "--cert-publickey-file", certPath), 1, "--sign-command", "printed nothing on stdout"},
		{"key base64 printed by the --sign-command", "", cat(qseow, "--sign-command", "printf %s "+body[:400], "--cert-publickey-file", certPath), 1, "--sign-command", "bytes of base64 text, not the raw 256-byte signature"},
		{"passphrase in a --sign-command that is not needed", "", cat(qseow, "--sign-command", "sign --pin "+fixturePassphrase, "--cert-privatekey-file", keyPath), 2, "--sign-command", "give the signing key twice"},
		{"private key as --sign-command's public key", "", cat(qseow, "--sign-command", "true --pin "+fixturePassphrase, "--cert-publickey-file", keyPath), 1, "--cert-publickey-file", "private key"},
		{"PEM to --cert-publickey-file with --sign-command", "", cat(qseow, "--sign-command", "true", "--cert-publickey-file", key), 2, "--cert-publickey-file", "looks like a PEM key, not a file path"},
		{"PEM to --sign-timeout", "", cat(qseow, "--sign-command", "true", "--cert-publickey-file", certPath, "--sign-timeout", key), 2, "--sign-timeout", "looks like a PEM key"},
		{"passphrase to --sign-timeout", "", cat(qseow, "--sign-command", "true", "--cert-publickey-file", certPath, "--sign-timeout", fixturePassphrase), 2, "--sign-timeout", "a value of 20 characters is not a duration"},
		{"PEM to --sign-input", "", cat(qseow, "--sign-command", "true", "--cert-publickey-file", certPath, "--sign-input", key), 2, "--sign-input", "looks like a PEM key"},
		{"PEM to --cert-privatekey-pkcs11", "", cat(qseow, "--cert-privatekey-pkcs11", key), 2, "--cert-privatekey-pkcs11", "looks like a PEM key, not a pkcs11: URI"},
		{"PIN in the PKCS #11 URI", "", cat(qseow, "--cert-privatekey-pkcs11", "pkcs11:token=qlik;object=jwt?pin-value="+fixturePassphrase), 1, "--cert-privatekey-pkcs11", "built without PKCS #11 support"},
		{"passphrase to --passphrase-env with PKCS #11", "", cat(qseow, "--cert-privatekey-pkcs11", "pkcs11:token=qlik", "--passphrase-env", fixturePassphrase), 2, "--passphrase-env", "not an environment variable name"},
		{"PKCS #11 PIN variable not set", "", cat(qseow, "--cert-privatekey-pkcs11", "pkcs11:token=qlik", "--passphrase-env", identPass), 1, "--passphrase-env", "not repeated"},
		{"passphrase to --cert-privatekey-pkcs11 and --sign-command", "", cat(qseow, "--cert-privatekey-pkcs11", fixturePassphrase, "--sign-command", identPass), 2, "--cert-privatekey-pkcs11", "give the signing key twice"},
		{"PEM to keygen --jwk", "", []string{"keygen", "--jwk", key}, 2, "--help", "given without its flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, runOpts{stdin: tc.stdin, env: env}, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n", "the error names the flag")
			assert.Contains(t, r.stderr, tc.want)
			clitest.AssertNoRun(t, body, r.stdout, r.stderr)
			clitest.AssertNoRun(t, tokenB64, r.stdout, r.stderr)
			for _, p := range []string{fixturePassphrase, identPass} {
				assert.NotContains(t, r.stdout+r.stderr, p, "the passphrase")
			}
		})
	}
}

// TestNoSecretEchoedCheck guards the check itself: a 40-character run of
// the key, also across a folded line, is caught.
func TestNoSecretEchoedCheck(t *testing.T) {
	body := clitest.Base64Body(readFixture(t, "test-only-rsa2048-pkcs8.pem"))
	for _, out := range []string{"x" + body[100:140] + "y", body[200:220] + "\n  " + body[220:240]} {
		ft := &testing.T{}
		clitest.AssertNoRun(ft, body, out)
		assert.True(t, ft.Failed(), "%q is caught", out)
	}
}

func TestDescribe(t *testing.T) {
	key := readFixture(t, "test-only-rsa2048-pkcs8.pem")
	token := strings.TrimSpace(readFixture(t, "test-only-cloud-openssl.jwt"))
	for _, s := range []string{key, token, strings.Split(key, "\n")[5], "a\nb"} {
		assert.True(t, looksSecret(s), "%.20q looks secret", s)
	}
	for _, s := range []string{"QS_JWT_KEY", "/home/anna/projects/qlik/keys/privatekey.pem", "C:/Users/AnnaAndersson/Documents/QlikSenseKeys2025/privatekey.pem",
		"SalesEMEA-Nordics-Stockholm-Team-2025-Q4-Leads", "QlikSenseContentAdminsForEMEARegion2025Q4", "tenant.eu.qlikcloud.com", "anna@example.com"} {
		assert.False(t, looksSecret(s), "%q is not secret", s)
	}
	assert.Equal(t, "a value of 1704 characters that looks like a PEM key", describe(key))
	assert.Equal(t, `environment variable QS_JWT_KEY`, ShownVar("--x", "QS_JWT_KEY"))
	assert.NotContains(t, ShownVar("--x", "hunter2"), "hunter2")
	assert.Equal(t, `"keys/k.pem"`, shownPath("--x", "keys/k.pem"))
	assert.NotContains(t, shownPath("--x", "passphrase"), "passphrase")
}
