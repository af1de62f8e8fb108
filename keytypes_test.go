package qsjwt

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnsupportedKeyTypes reads valid keys of types qsjwt does not read,
// made with openssl, and requires "unsupported key type" naming the type,
// not "damaged or truncated" (issue 10.10).
func TestUnsupportedKeyTypes(t *testing.T) {
	for _, tt := range []struct{ file, name string }{
		{"rsapss2048-pkcs8.pem", "RSA-PSS"},
		{"ec-secp256k1-sec1.pem", "secp256k1"},
		{"ec-secp256k1-pkcs8.pem", "secp256k1"},
		{"ed448-pkcs8.pem", "Ed448"},
	} {
		t.Run("private "+tt.file, func(t *testing.T) {
			key, err := ParsePrivateKey(fixture(t, tt.file))
			assert.Nil(t, key)
			requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{"unsupported key type: ", tt.name, "qs-jwt keygen"}, nil)
			assert.NotContains(t, err.Error(), "damaged")
			_, err = SignerFromPEMFile(filepath.Join("testdata", "test-only-"+tt.file))
			requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{tt.name}, nil)
		})
	}
	for _, tt := range []struct{ file, name string }{
		{"rsapss2048-public.pem", "RSA-PSS"},
		{"rsapss2048.cer", "RSA-PSS"},
		{"ec-secp256k1-public.pem", "secp256k1"},
		{"ec-secp256k1.cer", "secp256k1"},
		{"ed448-public.pem", "Ed448"},
		{"ed448.cer", "Ed448"},
	} {
		t.Run("public "+tt.file, func(t *testing.T) {
			pub, err := ParsePublicKey(fixture(t, tt.file))
			assert.Nil(t, pub)
			requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{"unsupported key type: ", tt.name}, nil)
			assert.NotContains(t, err.Error(), "damaged")
		})
	}
	t.Run("encrypted RSA-PSS is not a wrong passphrase", func(t *testing.T) {
		block, _ := pem.Decode(fixture(t, "rsapss2048-pkcs8.pem"))
		der, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", block.Bytes, []byte(fixturePassphrase), x509.PEMCipherAES256) //nolint:staticcheck // a legacy encrypted fixture
		require.NoError(t, err)
		_, err = ParsePrivateKey(pem.EncodeToMemory(der), WithPassphrase([]byte(fixturePassphrase)))
		requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{"RSA-PSS"}, nil)
		assert.NotErrorIs(t, err, ErrWrongPassphrase)
	})
	t.Run("damaged RSA key is still damaged", func(t *testing.T) {
		der := pemDER(t, "rsa2048-pkcs8.pem")
		der = append(der[:len(der)-40:len(der)-40], make([]byte, 40)...)
		_, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		requireKeyError(t, err, []error{errMalformedKey}, []string{"damaged"}, nil)
	})
}

// TestPBKDF2IterationCap reads a key encrypted by openssl with one
// iteration over the cap: refused at once, naming the count.
func TestPBKDF2IterationCap(t *testing.T) {
	_, err := ParsePrivateKey(fixture(t, "rsa2048-pkcs8-aes256-iter600001.pem"), WithPassphrase([]byte(fixturePassphrase)))
	requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{"iteration count 600001", "limit of 600000", "openssl pkcs8 -topk8"}, nil)
}

// TestRSAExponentRefused requires every way a key is read to refuse an RSA
// key whose public exponent is below 3 or even (issue 10.10).
func TestRSAExponentRefused(t *testing.T) {
	n := testKey(t).N
	for _, e := range []int{1, 2, 4, 65536} {
		pub := &rsa.PublicKey{N: n, E: e}
		want := []string{"public exponent is " + big.NewInt(int64(e)).String(), "odd exponent of at least 3"}
		pkix, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		_, err = ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))
		requireKeyError(t, err, nil, want, nil)
		_, err = ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}))
		requireKeyError(t, err, nil, want, nil)
		jwk := `{"kty":"RSA","n":"` + base64.RawURLEncoding.EncodeToString(n.Bytes()) + `","e":"` + base64.RawURLEncoding.EncodeToString(big.NewInt(int64(e)).Bytes()) + `"}`
		_, err = ParseJWK([]byte(jwk))
		requireKeyError(t, err, nil, want, nil)
		_, err = SignerFromCrypto(deviceKey{pub: pub})
		requireKeyError(t, err, nil, want, nil)
		// SignerFromCrypto is to call checkKey with originOf (signer.go).
		requireKeyError(t, checkKey(pub, originOf(deviceKey{pub: pub})), nil, append(want, "in the HSM or KMS"), nil)
	}
	t.Run("certificate", func(t *testing.T) {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "e=1"}, NotBefore: fixedNow, NotAfter: fixedNow.Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, testCert(t), &rsa.PublicKey{N: n, E: 1}, testKey(t))
		require.NoError(t, err)
		_, err = ParseCertificate(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		requireKeyError(t, err, nil, []string{"public exponent is 1"}, nil)
	})
	t.Run("private key with e=1", func(t *testing.T) {
		k := testKey(t)
		weak := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: k.N, E: 1}, D: big.NewInt(1), Primes: k.Primes}
		der := x509.MarshalPKCS1PrivateKey(weak)
		_, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
		requireKeyError(t, err, nil, []string{"public exponent is 1"}, nil)
	})
}

// deviceKey stands for a key in an HSM or a KMS: an opaque crypto.Signer
// whose public key is pub. It never signs.
type deviceKey struct{ pub crypto.PublicKey }

func (k deviceKey) Public() crypto.PublicKey { return k.pub }

func (deviceKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("deviceKey does not sign")
}

// TestKeyAdviceFitsOrigin requires the advice about a key Qlik cannot use to
// fit where the key lives (issue 14.6): make a new one with keygen for a key
// from a file or memory, create one in the HSM or KMS for an opaque signer.
func TestKeyAdviceFitsOrigin(t *testing.T) {
	weak, err := x509.ParsePKCS8PrivateKey(pemDER(t, "rsa1024-pkcs8.pem"))
	require.NoError(t, err)
	ec, err := ParsePrivateKey(fixture(t, "ec-p256-sec1.pem"))
	require.NoError(t, err)
	for name, key := range map[string]crypto.Signer{"RSA-1024": weak.(crypto.Signer), "ECDSA": ec} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, originFile, originOf(key))
			err := checkKey(key.Public(), originOf(key))
			requireKeyError(t, err, nil, []string{"qs-jwt keygen"}, nil)
			assert.NotContains(t, err.Error(), "HSM")

			device := deviceKey{pub: key.Public()}
			assert.Equal(t, originDevice, originOf(device))
			err = checkKey(device.Public(), originOf(device))
			requireKeyError(t, err, nil, []string{"create an RSA key of at least 2048 bits in the HSM or KMS"}, nil)
			assert.NotContains(t, err.Error(), "keygen")

			// The same advice through the public entry points.
			_, err = SignerFromCrypto(key)
			assert.ErrorContains(t, err, "qs-jwt keygen")
			_, err = SignerFromCrypto(device)
			assert.ErrorContains(t, err, "in the HSM or KMS")
			assert.NotContains(t, err.Error(), "keygen")
			_, err = NewQSEoW(SignerFunc(key.Public(), nil))
			require.ErrorIs(t, err, ErrKey)
			assert.ErrorContains(t, err, "in the HSM or KMS")
		})
	}
	_, err = ParsePrivateKey(fixture(t, "rsa1024-pkcs8.pem"))
	requireKeyError(t, err, nil, []string{"1024 bits", "qs-jwt keygen"}, nil)
}
