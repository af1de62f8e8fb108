package main

import (
	"encoding/json"
	"strings"
	"testing"

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
