package qsjwt

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The PFX fixtures were made by openssl 3.0 from the test-only key and
// certificate (see test-only-make-keys.sh): legacy (3DES key, RC2-40
// certificates, SHA-1 MAC, as the QMC and older Windows write), modern
// (PBES2 AES-256-CBC, SHA-256 MAC, openssl's default), and modern with an
// empty password.
func TestParsePKCS12(t *testing.T) {
	modern := fixture(t, "rsa2048-aes256.pfx")
	b64 := base64.StdEncoding.EncodeToString(modern)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 64 {
		wrapped.WriteString(b64[i:min(i+64, len(b64))] + "\r\n")
	}
	for _, tt := range []struct {
		name string
		data []byte
		opts []KeyOption
	}{
		{"legacy 3DES and RC2", fixture(t, "rsa2048-legacy.pfx"), withPass(fixturePassphrase)},
		{"modern AES-256", modern, withPass(fixturePassphrase)},
		{"base64 in lines", []byte(wrapped.String()), withPass(fixturePassphrase)},
		{"empty password, none given", fixture(t, "rsa2048-nopass.pfx"), nil},
		{"empty password, given", fixture(t, "rsa2048-nopass.pfx"), withPass("")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, cert, err := ParsePKCS12(tt.data, tt.opts...)
			require.NoError(t, err)
			assert.True(t, testKey(t).Equal(key), "the test-only key")
			assert.True(t, testCert(t).Equal(cert), "the test-only certificate")
		})
	}
}

func TestParsePKCS12Refusals(t *testing.T) {
	modern := fixture(t, "rsa2048-aes256.pfx")
	tests := []struct {
		name      string
		data      []byte
		opts      []KeyOption
		sentinels []error
		contains  []string
	}{
		{"no password given", modern, nil, []error{ErrEncryptedKey}, []string{"WithPassphrase"}},
		{"wrong password, modern", modern, withPass(realPassphrase), []error{ErrWrongPassphrase}, []string{"does not open the PFX"}},
		{"wrong password, legacy", fixture(t, "rsa2048-legacy.pfx"), withPass(realPassphrase), []error{ErrWrongPassphrase}, nil},
		{"PEM key as password", modern, []KeyOption{WithPassphrase(fixture(t, "rsa2048-pkcs8.pem"))}, []error{ErrWrongPassphrase}, nil},
		{"iterations over the cap", fixture(t, "rsa2048-iter600001.pfx"), withPass(fixturePassphrase), []error{ErrUnsupportedKey}, []string{"iteration count 600001", "limit of 600000"}},
		{"PEM instead of PFX", fixture(t, "rsa2048-pkcs8.pem"), withPass(fixturePassphrase), nil, []string{"PEM text, not a PFX", "ParsePrivateKey"}},
		{"empty", nil, nil, []error{errNoPEM}, []string{"empty"}},
		{"truncated", modern[:len(modern)/2], withPass(fixturePassphrase), nil, nil},
		{"not a PFX", []byte("not a pfx"), nil, []error{errMalformedKey}, []string{"neither a PFX"}},
		{"over 1 MiB", make([]byte, maxPEMBytes+1), nil, nil, []string{"1 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, cert, err := ParsePKCS12(tt.data, tt.opts...)
			assert.Nil(t, key)
			assert.Nil(t, cert)
			requireKeyError(t, err, tt.sentinels, tt.contains, tt.data)
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				out := fmt.Sprintf(verb, err)
				assert.NotContains(t, out, realPassphrase)
				assertNoKeyMaterial(t, out, tt.data)
			}
		})
	}
}
