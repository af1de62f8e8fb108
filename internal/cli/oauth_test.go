package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
)

const (
	testClientID = "0123456789abcdef0123456789abcdef"
	testTenant   = "https://tenant.eu.qlikcloud.com"
)

var ecKeyPath = fixture("test-only-ec-p384-pkcs8.pem")

func TestCreateAssertion(t *testing.T) {
	for _, tc := range []struct {
		name, key, alg string
		args           []string
	}{
		{"RSA", keyPath, "RS256", nil},
		{"RSA RS512", keyPath, "RS512", []string{"--alg", "RS512"}},
		{"P-384", ecKeyPath, "ES384", []string{"--expires", "5m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := append([]string{"--tenant", testTenant + "/", "--client-id", testClientID, "--keyid", "k1", "--cert-privatekey-file", tc.key}, tc.args...)
			jwk := qsArgs(t, append([]string{"create-assertion", "--print-jwk"}, base...)...)
			require.Equal(t, 0, jwk.code, jwk.stderr)
			var m map[string]string
			require.NoError(t, json.Unmarshal([]byte(jwk.stdout), &m))
			assert.Equal(t, tc.alg, m["alg"])
			assert.Equal(t, "k1", m["kid"])
			assert.Empty(t, m["d"])

			r := qsArgs(t, append([]string{"create-assertion"}, base...)...)
			require.Equal(t, 0, r.code, r.stderr)
			raw := strings.TrimSuffix(r.stdout, "\n")
			require.NotContains(t, raw, "\n", "the assertion alone on stdout")
			tok, err := qsjwt.VerifyClientAssertion(raw, []byte(jwk.stdout), testClientID, testTenant, qsjwt.WithClock(Clock))
			require.NoError(t, err)
			assert.Equal(t, fixedNow, tok.IssuedAt)
			if tc.alg == "RS256" {
				d := verifyStdlib(t, raw, certKey(t, certPath)) // crypto/rsa over the exact bytes
				assert.Equal(t, `"`+testTenant+`/oauth/token"`, d.claim("aud"))
				assert.Equal(t, int64(60), d.num(t, "exp")-d.num(t, "iat"))
			}
			assert.Contains(t, r.stderr, "send it once")
		})
	}
}

func TestCreateAssertionRefuses(t *testing.T) {
	base := []string{"create-assertion", "--client-id", testClientID, "--keyid", "k1", "--cert-privatekey-file", keyPath}
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"http tenant", []string{"--tenant", "http://tenant.eu.qlikcloud.com"}, "--tenant"},
		{"tenant with a path", []string{"--tenant", testTenant + "/oauth/token"}, "--tenant"},
		{"six minutes", []string{"--tenant", testTenant, "--expires", "6m"}, "--expires"},
		{"RS384", []string{"--tenant", testTenant, "--alg", "RS384"}, "--alg"},
		{"ES384 with an RSA key", []string{"--tenant", testTenant, "--alg", "ES384"}, "--alg"},
		{"no tenant", nil, "--tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := qsArgs(t, append(append([]string{}, base...), tc.args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, "("+tc.flag+")")
		})
	}
	r := qsArgs(t, "create-assertion", "--tenant", testTenant, "--client-id", testClientID, "--cert-privatekey-file", keyPath)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "(--keyid)")
	r = qsArgs(t, "create-assertion", "--tenant", testTenant, "--client-id", testClientID, "--keyid", "k", "--cert-create", "--cert-file-prefix", t.TempDir()+"/")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "(--cert-create)")
	r = qsArgs(t, "create-assertion", "--tenant", testTenant, "--client-id", testClientID, "--keyid", "k", "--cert-privatekey-file", fixture("test-only-ec-p256-pkcs8.pem"))
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "ECDSA P-256")
}

func TestDecodeVariantOAuth(t *testing.T) {
	args := []string{"--tenant", testTenant, "--client-id", testClientID, "--keyid", "k1", "--cert-privatekey-file", ecKeyPath}
	jwk := qsArgs(t, append([]string{"create-assertion", "--print-jwk"}, args...)...)
	require.Equal(t, 0, jwk.code, jwk.stderr)
	jwkFile := writeFile(t, "jwk.json", []byte(jwk.stdout))
	asn := qsArgs(t, append([]string{"create-assertion"}, args...)...)
	require.Equal(t, 0, asn.code, asn.stderr)
	raw := strings.TrimSpace(asn.stdout)

	r := qsArgs(t, "decode", "--jwt", raw, "--variant", "oauth", "--cert-publickey-file", jwkFile, "--expected-issuer", testClientID)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Qlik Cloud OAuth would accept this token")

	other := qsArgs(t, "create-assertion", "--print-jwk", "--tenant", testTenant, "--client-id", testClientID, "--keyid", "k2", "--cert-privatekey-file", ecKeyPath)
	r = qsAny(t, nil, "decode", "--jwt", raw, "--variant", "oauth", "--cert-publickey-file", writeFile(t, "k2.json", []byte(other.stdout)))
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, `header "kid": is "k1"; the key registered with the OAuth client has kid "k2"`)

	r = qsArgs(t, "decode", "--jwt", raw, "--variant", "oauth", "--cert-publickey-file", certPath)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "JWK")
}
