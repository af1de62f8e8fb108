package qsjwt

import (
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParseKeys feeds arbitrary text (seeded with every committed PEM and
// PFX fixture, whole and cut short) to the key, certificate and PFX parsers: they
// must never panic, every refusal must wrap ErrKey and carry no line of the
// input's base64, and an accepted RSA key must be at least 2048 bits.
// base64Line matches a line of key material: 16 or more base64 characters.
var base64Line = regexp.MustCompile(`^[A-Za-z0-9+/=]{16,}$`)

func FuzzParseKeys(f *testing.F) {
	files, err := filepath.Glob("testdata/test-only-*.pem")
	require.NoError(f, err)
	pfx, err := filepath.Glob("testdata/test-only-*.pfx")
	require.NoError(f, err)
	files = append(files, pfx...)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(string(b))
		f.Add(string(b[:len(b)/2]))
		f.Add(strings.ReplaceAll(string(b), "\n", `\n`))
	}
	f.Add("")
	f.Add("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, input string) {
		check := func(err error) {
			if err == nil {
				return
			}
			assert.True(t, errors.Is(err, ErrKey), "%v", err)
			for _, line := range strings.Split(input, "\n") {
				line = strings.TrimSpace(line)
				if base64Line.MatchString(line) {
					assert.NotContains(t, err.Error(), line, "input leaked into the error")
				}
			}
		}
		key, err := ParsePrivateKey([]byte(input), WithPassphrase([]byte("test-only-passphrase")))
		check(err)
		if err == nil {
			if pub, ok := key.Public().(*rsa.PublicKey); ok {
				assert.GreaterOrEqual(t, pub.N.BitLen(), MinRSABits)
			}
		}
		_, err = ParseCertificate([]byte(input))
		check(err)
		pfxKey, _, err := ParsePKCS12([]byte(input), WithPassphrase([]byte("test-only-passphrase")))
		check(err)
		if p, ok := pfxKey.(*rsa.PrivateKey); ok && err == nil {
			assert.GreaterOrEqual(t, p.N.BitLen(), MinRSABits)
		}
		pub, err := ParsePublicKey([]byte(input))
		check(err)
		if p, ok := pub.(*rsa.PublicKey); ok && err == nil {
			assert.GreaterOrEqual(t, p.N.BitLen(), MinRSABits)
		}
	})
}
