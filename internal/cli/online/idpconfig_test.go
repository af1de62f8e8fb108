package online

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/qsjwt/qsjwt/internal/cli/clitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdPConfig(t *testing.T) {
	certPEM := readFixture(t, "test-only-rsa2048.cer")
	kid := thumbprint(certKey(t, certPath))
	tests := []struct {
		name string
		opts runOpts
		args []string
		kid  string
	}{
		{"key ID given", runOpts{}, []string{"--cert-file", certPath, "--keyid", "kid-1"}, "kid-1"},
		{"key ID from the thumbprint", runOpts{}, []string{"--cert-file", certPath}, kid},
		{"certificate on stdin", runOpts{stdin: certPEM}, []string{"--cert-file", "-", "--keyid", "k"}, "k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, tc.opts, append([]string{"idp-config", "--issuer", "tenant.eu.qlikcloud.com"}, tc.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			var body struct {
				Provider, Protocol, Description string
				Interactive, Active             *bool
				Options                         struct {
					Issuer          string
					StaticKeys      []struct{ KID, PEM string }
					JWTLoginEnabled bool
				}
				ClockToleranceSec *int
			}
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&body), "stdout is the JSON alone")
			assert.False(t, dec.More())
			assert.Equal(t, "external", body.Provider)
			assert.Equal(t, "jwtAuth", body.Protocol)
			assert.Equal(t, "tenant.eu.qlikcloud.com", body.Options.Issuer)
			require.Len(t, body.Options.StaticKeys, 1)
			assert.Equal(t, tc.kid, body.Options.StaticKeys[0].KID)
			assert.Equal(t, strings.TrimSpace(certPEM), strings.TrimSpace(body.Options.StaticKeys[0].PEM), "the certificate, in PEM")
			// The body qs-jwt setup cloud sends (issue 12): not interactive, active, described.
			require.NotNil(t, body.Interactive)
			require.NotNil(t, body.Active)
			assert.False(t, *body.Interactive)
			assert.True(t, *body.Active)
			assert.True(t, body.Options.JWTLoginEnabled)
			assert.NotEmpty(t, body.Description)
			for _, l := range strings.Split(r.stdout, "\n") {
				if strings.Contains(l, "BEGIN CERTIFICATE") {
					assert.Contains(t, l, `\n-----END CERTIFICATE-----"`, "the pem is one JSON line with \\n escapes")
				}
			}
			require.NotNil(t, body.ClockToleranceSec)
			assert.Equal(t, 5, *body.ClockToleranceSec)

			for _, want := range []string{"api/v1/identity-providers", "JWT attribute for user ID:        userId",
				"JWT attribute for user directory: userDirectory", "-----BEGIN CERTIFICATE-----"} {
				assert.Contains(t, r.stderr, want, "QSEoW fields and help on stderr")
			}
		})
	}

	r := qsArgs(t, "idp-config", "--issuer", "I", "--cert-file", certPath, "--minimal-output")
	require.Equal(t, 0, r.code)
	assert.Empty(t, r.stderr)
}

func TestIdPConfigFailures(t *testing.T) {
	runFailCases(t, []string{"idp-config"}, []failCase{
		{"no certificate", runOpts{}, []string{"--issuer", "I"}, 2, "needs the certificate file", "--cert-file"},
		{"no issuer", runOpts{}, []string{"--cert-file", certPath}, 2, "needs the issuer", "--issuer"},
		{"private key", runOpts{}, []string{"--issuer", "I", "--cert-file", keyPath}, 1, "private key given where a public key or certificate belongs", "--cert-file"},
		{"public key", runOpts{}, []string{"--issuer", "I", "--cert-file", fixture("test-only-rsa2048-public.pem")}, 1, "give the certificate", "--cert-file"},
		{"missing file", runOpts{}, []string{"--issuer", "I", "--cert-file", "nope.cer"}, 1, `cannot read "nope.cer"`, "--cert-file"},
		{"garbage on stdin", runOpts{stdin: "x"}, []string{"--issuer", "I", "--cert-file", "-"}, 1, "no -----BEGIN", "--cert-file"},
		{"issuer with space", runOpts{}, []string{"--issuer", "I ", "--cert-file", certPath}, 2, "white space", "--issuer"},
		{"empty key ID", runOpts{}, []string{"--issuer", "I", "--keyid", "", "--cert-file", certPath}, 2, "key ID is empty", "--keyid"},
	})
}

func TestIdPConfigRefusesECCertificate(t *testing.T) {
	r, prefix := keygen(t, "--type", "ec")
	require.Equal(t, 0, r.code)
	r = qsArgs(t, "idp-config", "--issuer", "I", "--cert-file", prefix+"publickey.cer")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "ECDSA")
	assert.Contains(t, r.stderr, "(--cert-file)")
}

func TestIdPConfigBadFlagValues(t *testing.T) {
	idp := []string{"idp-config", "--cert-file", certPath, "--issuer", "I"}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{append(idp, "--issuer", "I"), "--issuer"}, // given twice
		{[]string{"idp-config", "--cert-file", certPath, "--issuer", " I"}, "--issuer"},
		{append(idp, "--keyid", ""), "--keyid"},
	} {
		r := qsArgs(t, tc.args...)
		assert.Equal(t, 2, r.code, "%q: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, "("+tc.flag+")\n")
	}
}

// TestOnlineTopLevel: help, version and flag errors of the online commands,
// as package cli's TestTopLevel checks the others.
func TestOnlineTopLevel(t *testing.T) {
	for _, c := range []string{"idp-config", "oauth-token"} {
		for _, tc := range []struct {
			args           []string
			code           int
			stdout, stderr string
		}{
			{[]string{c, "--help"}, 0, "Usage: qs-jwt " + c, ""},
			{[]string{c, "-h"}, 0, "--minimal-output", ""},
			{[]string{c, "--version"}, 0, "qs-jwt ", ""},
			{[]string{c, "--nope"}, 2, "", `unknown flag "--nope" for ` + c},
			{[]string{c, "extra"}, 2, "", `unexpected argument 1 (a value of 5 characters)`},
			{[]string{c, "--loglevel", "loud"}, 2, "", "(--loglevel)"},
		} {
			r := qsArgs(t, tc.args...)
			assert.Equal(t, tc.code, r.code, "%q: %s", tc.args, r.stderr)
			assert.Contains(t, r.stdout, tc.stdout, "%q", tc.args)
			assert.Contains(t, r.stderr, tc.stderr, "%q", tc.args)
		}
	}
	for _, c := range []string{"setup", "doctor"} {
		r := qsArgs(t, c, "--help")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "cloud")
	}
}

var pfxEnv = map[string]string{"PASS": clitest.FixturePassphrase, "WRONG": "not-the-password"}

func TestIdPConfigPFX(t *testing.T) {
	r := qs(t, runOpts{env: pfxEnv}, "idp-config", "--issuer", "I", "--cert-privatekey-pfx", fixture("test-only-rsa2048-legacy.pfx"), "--passphrase-env", "PASS")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"issuer": "I"`)
	assert.Contains(t, r.stdout, thumbprint(certKey(t, certPath)), "the key ID is the PFX's key's thumbprint")

	r = qs(t, runOpts{env: pfxEnv}, "idp-config", "--jwk", "--cert-privatekey-pfx", fixture("test-only-rsa2048-aes256.pfx"), "--passphrase-env", "WRONG")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "does not open the PFX")
	assert.Contains(t, r.stderr, "(--passphrase-env)\n")
	assert.NotContains(t, r.stderr, "not-the-password")
}

// TestIdPConfigNoSecretEchoed: idp-config's cases of package cli's
// TestNoSecretEchoed.
func TestIdPConfigNoSecretEchoed(t *testing.T) {
	key := readFixture(t, "test-only-rsa2048-pkcs8.pem")
	pfx := fixture("test-only-rsa2048-aes256.pfx")
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		flag, want string
	}{
		{"PEM to --cert-file", []string{"idp-config", "--issuer", "I", "--cert-file", key}, 2, "--cert-file", "looks like a PEM key, not a file path"},
		{"private key file to --cert-file", []string{"idp-config", "--issuer", "I", "--cert-file", keyPath}, 1, "--cert-file", ""},
		{"PEM to --cert-privatekey-pfx", []string{"idp-config", "--jwk", "--cert-privatekey-pfx", key}, 2, "--cert-privatekey-pfx", "not a file path"},
		{"passphrase to --passphrase-env", []string{"idp-config", "--jwk", "--cert-privatekey-pfx", pfx, "--passphrase-env", clitest.FixturePassphrase}, 2, "--passphrase-env", "not an environment variable name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, runOpts{env: pfxEnv}, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n", "the error names the flag")
			assert.Contains(t, r.stderr, tc.want)
			clitest.AssertNoRun(t, clitest.Base64Body(key), r.stdout, r.stderr)
			assert.NotContains(t, r.stdout+r.stderr, clitest.FixturePassphrase)
		})
	}
}

func TestIdPConfigJWK(t *testing.T) {
	t.Parallel()
	cert := certKey(t, certPath)
	r := qsArgs(t, "idp-config", "--cert-file", certPath, "--jwk")
	require.Equal(t, 0, r.code, r.stderr)
	m, pub := clitest.JWKOf(t, []byte(r.stdout))
	assert.True(t, cert.Equal(pub))
	assert.Equal(t, thumbprint(cert), m["kid"])
	assert.NotContains(t, m, "d")
	assert.True(t, strings.HasSuffix(r.stdout, "}\n"), "stdout is the JWK alone")

	r = qsArgs(t, "idp-config", "--cert-file", certPath, "--jwk", "--keyid", "client-key-1")
	require.Equal(t, 0, r.code, r.stderr)
	m, _ = clitest.JWKOf(t, []byte(r.stdout))
	assert.Equal(t, "client-key-1", m["kid"])

	r = qsArgs(t, "idp-config", "--cert-file", certPath)
	assert.Equal(t, 2, r.code, "without --jwk the issuer is still required")
	assert.Contains(t, r.stderr, "(--issuer)")
}
