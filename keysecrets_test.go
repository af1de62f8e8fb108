package qsjwt

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyValuesPrintNoKeyMaterial formats every value of this package that
// holds a key or a passphrase with every verb: no key material, no
// passphrase.

func TestKeyValuesPrintNoKeyMaterial(t *testing.T) {
	s, err := SignerFromPEM(fixture(t, "rsa2048-pkcs8.pem"))
	require.NoError(t, err)
	key := testKey(t)
	secrets := []string{fixturePassphrase, key.N.String(), fmt.Sprintf("%x", key.N), key.D.String()}
	fromFile, err := SignerFromPEMFile(filepath.Join("testdata", "test-only-rsa2048-pkcs8-aes256.pem"), WithPassphrase([]byte(fixturePassphrase)))
	require.NoError(t, err)
	pfxKey, _, err := ParsePKCS12(fixture(t, "rsa2048-aes256.pfx"), WithPassphrase([]byte(fixturePassphrase)))
	require.NoError(t, err)
	fromPFX, err := SignerFromCrypto(pfxKey)
	require.NoError(t, err)
	values := []any{
		WithPassphrase([]byte(fixturePassphrase)), WithPassphrase([]byte(realPassphrase)),
		[]KeyOption{WithPassphrase([]byte(realPassphrase))},
		s, fromFile, fromPFX, RSA4096, KeyFiles{PrivateKey: "privatekey.pem"},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range append(secrets, realPassphrase, fmt.Sprintf("%x", realPassphrase)) {
				assert.NotContains(t, out, secret, "%s of %T", verb, v)
			}
			assertNoKeyMaterial(t, out)
		}
	}
	assert.Equal(t, "qsjwt.WithPassphrase(redacted)", fmt.Sprintf("%#v", WithPassphrase([]byte(fixturePassphrase))))
	assert.Equal(t, "qsjwt.Signer(RSA-2048)", fmt.Sprintf("%+v", s))
}

// realPassphrase is a passphrase of the kind a user picks, for the tests that
// check no error repeats it.
const realPassphrase = "Correct-Horse-Battery-Staple-7f3a"

// TestNoSecretEchoedByKeyFunctions hands real keys and a real passphrase to
// every secret-bearing parameter of the key functions, right and wrong (a
// key where a path belongs, a passphrase where a key belongs), and checks
// that no error repeats them (issue 10.1).
func TestNoSecretEchoedByKeyFunctions(t *testing.T) {
	p8 := string(fixture(t, "rsa2048-pkcs8.pem"))
	enc := string(fixture(t, "rsa2048-pkcs8-aes256.pem"))
	var body strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(p8), "\n")[1:] {
		if !strings.HasPrefix(line, "-----") {
			body.WriteString(line)
		}
	}
	asPath := map[string]string{
		"PEM text":                 p8,
		"PEM text, trimmed":        strings.TrimSpace(p8),
		"PEM text, literal \\n":    strings.ReplaceAll(strings.TrimSpace(p8), "\n", `\n`),
		"encrypted PEM text":       enc,
		"base64 body":              body.String(),
		"base64 body, first lines": strings.Join(strings.Split(p8, "\n")[1:3], "\n"),
		"PEM body without BEGIN":   strings.SplitN(p8, "\n", 2)[1],
		"a JWT":                    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbm5hIn0." + body.String()[:86],
	}
	for name, secret := range asPath {
		t.Run("SignerFromPEMFile, "+name, func(t *testing.T) {
			s, err := SignerFromPEMFile(secret)
			assert.Nil(t, s)
			requireKeyError(t, err, nil, []string{"the path looks like", "not a file path: give the file's path, or use SignerFromPEM"}, []byte(secret))
		})
	}

	pass := []byte(realPassphrase)
	encPath := filepath.Join("testdata", "test-only-rsa2048-pkcs8-aes256.pem")
	legacyPath := filepath.Join("testdata", "test-only-rsa2048-pkcs1-aes256.pem")
	errs := map[string]error{}
	_, errs["PKCS #8, wrong passphrase"] = ParsePrivateKey([]byte(enc), WithPassphrase(pass))
	_, errs["legacy, wrong passphrase"] = ParsePrivateKey(fixture(t, "rsa2048-pkcs1-aes256.pem"), WithPassphrase(pass))
	_, errs["file, wrong passphrase"] = SignerFromPEMFile(encPath, WithPassphrase(pass))
	_, errs["legacy file, wrong passphrase"] = SignerFromPEMFile(legacyPath, WithPassphrase(pass))
	_, errs["PEM text as passphrase"] = ParsePrivateKey([]byte(enc), WithPassphrase([]byte(p8)))
	_, errs["passphrase as the key"] = ParsePrivateKey(pass)
	_, errs["passphrase as the key, with a passphrase"] = ParsePrivateKey(pass, WithPassphrase(pass))
	_, errs["passphrase as a public key"] = ParsePublicKey(pass)
	_, errs["passphrase as a certificate"] = ParseCertificate(pass)
	_, errs["passphrase as a JWK"] = ParseJWK(pass)
	_, errs["private key as a public key"] = ParsePublicKey([]byte(p8))
	_, errs["private key as a certificate"] = ParseCertificate([]byte(p8))
	_, errs["private key as a JWK"] = ParseJWK([]byte(p8))
	_, errs["encrypted key, no passphrase"] = SignerFromPEMFile(encPath)
	k := testKey(t)
	b64 := base64.RawURLEncoding.EncodeToString
	privateJWK := `{"kty":"RSA","n":"` + b64(k.N.Bytes()) + `","e":"AQAB","d":"` + b64(k.D.Bytes()) + `"}`
	_, errs["private JWK"] = ParseJWK([]byte(privateJWK))
	_, errs["private JWK given where a path belongs"] = SignerFromPEMFile(privateJWK)
	for name, err := range errs {
		t.Run(name, func(t *testing.T) {
			require.Error(t, err)
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				out := fmt.Sprintf(verb, err)
				assertNoKeyMaterial(t, out, []byte(p8), []byte(enc))
				assert.NotContains(t, out, realPassphrase)
				assert.NotContains(t, out, b64(k.D.Bytes())[:40])
				assert.NotContains(t, out, b64(k.N.Bytes())[:40])
			}
		})
	}
}
