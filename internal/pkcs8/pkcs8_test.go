package pkcs8

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const passphrase = "test-only-passphrase"

func fixtureDER(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "test-only-"+name))
	require.NoError(t, err)
	b, _ := pem.Decode(data)
	require.NotNil(t, b)
	return b.Bytes
}

func TestDecryptOpenSSLKeys(t *testing.T) {
	want := fixtureDER(t, "rsa2048-pkcs8.pem")
	for _, name := range []string{
		"rsa2048-pkcs8-aes256.pem",        // -v2 aes-256-cbc (PRF hmacWithSHA256)
		"rsa2048-pkcs8-aes128-sha1.pem",   // -v2 aes-128-cbc -v2prf hmacWithSHA1 (PRF omitted)
		"rsa2048-pkcs8-aes192-sha512.pem", // -v2 aes-192-cbc -v2prf hmacWithSHA512
		"rsa2048-pkcs8-aes256-sha384.pem", // -v2 aes-256-cbc -v2prf hmacWithSHA384
	} {
		t.Run(name, func(t *testing.T) {
			k, err := Parse(fixtureDER(t, name))
			require.NoError(t, err)
			der, err := k.Decrypt([]byte(passphrase))
			require.NoError(t, err)
			assert.Equal(t, want, der)
			_, err = x509.ParsePKCS8PrivateKey(der)
			assert.NoError(t, err)

			_, err = k.Decrypt([]byte("wrong"))
			assert.ErrorIs(t, err, ErrIncorrectPassphrase)
		})
	}
}

func TestKeyFormatHidesData(t *testing.T) {
	k, err := Parse(fixtureDER(t, "rsa2048-pkcs8-aes256.pem"))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assert.Equal(t, "pkcs8.Key(PBES2, PBKDF2 2048 iterations, AES-256-CBC)", fmt.Sprintf(verb, k))
	}
}

// build marshals an EncryptedPrivateKeyInfo from the aes-256 fixture after
// change has altered its parts.
func build(t *testing.T, change func(kdf *pbkdf2Params, scheme *pkix.AlgorithmIdentifier, iv *[]byte, data *[]byte)) []byte {
	t.Helper()
	var info encryptedPrivateKeyInfo
	_, err := asn1.Unmarshal(fixtureDER(t, "rsa2048-pkcs8-aes256.pem"), &info)
	require.NoError(t, err)
	var params pbes2Params
	_, err = asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params)
	require.NoError(t, err)
	var kdf pbkdf2Params
	_, err = asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf)
	require.NoError(t, err)
	var iv []byte
	_, err = asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv)
	require.NoError(t, err)

	change(&kdf, &params.EncryptionScheme, &iv, &info.EncryptedData)

	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		require.NoError(t, err)
		return asn1.RawValue{FullBytes: b}
	}
	params.KeyDerivationFunc.Parameters = raw(kdf)
	params.EncryptionScheme.Parameters = raw(iv)
	info.Algorithm.Parameters = raw(params)
	der, err := asn1.Marshal(info)
	require.NoError(t, err)
	return der
}

func TestParseRefusals(t *testing.T) {
	unchanged := build(t, func(*pbkdf2Params, *pkix.AlgorithmIdentifier, *[]byte, *[]byte) {})
	k, err := Parse(unchanged)
	require.NoError(t, err, "build reproduces a valid key")
	_, err = k.Decrypt([]byte(passphrase))
	require.NoError(t, err)

	tests := []struct {
		name   string
		der    []byte
		target error
		text   string
	}{
		{"PBES1", fixtureDER(t, "rsa2048-pkcs8-pbes1.pem"), ErrUnsupported, "PKCS #12 pbeWithSHAAnd3-KeyTripleDES-CBC"},
		{"not DER", []byte("not DER"), ErrMalformed, "EncryptedPrivateKeyInfo"},
		{"trailing data", append(append([]byte{}, unchanged...), 0), ErrMalformed, "trailing data"},
		{"DES-EDE3", build(t, func(_ *pbkdf2Params, s *pkix.AlgorithmIdentifier, iv *[]byte, _ *[]byte) {
			s.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
			*iv = (*iv)[:8]
		}), ErrUnsupported, "DES-EDE3-CBC"},
		{"HMAC-MD5", build(t, func(k *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, _ *[]byte) {
			k.PRF.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
		}), ErrUnsupported, "HMAC-MD5"},
		{"no iterations", build(t, func(k *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, _ *[]byte) { k.Iterations = 0 }), ErrMalformed, "iteration count is 0"},
		{"too many iterations", build(t, func(k *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, _ *[]byte) {
			k.Iterations = MaxIterations + 1
		}), ErrUnsupported, "over qsjwt's limit of 600000"},
		{"empty salt", build(t, func(k *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, _ *[]byte) { k.Salt = nil }), ErrMalformed, "salt"},
		{"key length", build(t, func(k *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, _ *[]byte) { k.KeyLength = 16 }), ErrMalformed, "key length 16"},
		{"short IV", build(t, func(_ *pbkdf2Params, _ *pkix.AlgorithmIdentifier, iv *[]byte, _ *[]byte) { *iv = (*iv)[:8] }), ErrMalformed, "IV has 8 bytes"},
		{"truncated data", build(t, func(_ *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, d *[]byte) { *d = (*d)[:100] }), ErrMalformed, "truncated"},
		{"no data", build(t, func(_ *pbkdf2Params, _ *pkix.AlgorithmIdentifier, _ *[]byte, d *[]byte) { *d = nil }), ErrMalformed, "0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.der)
			assert.Nil(t, k)
			assert.ErrorIs(t, err, tt.target)
			assert.ErrorContains(t, err, tt.text)
		})
	}
}
