package qsjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixturePassphrase encrypts every encrypted test-only fixture.
const fixturePassphrase = "test-only-passphrase"

// fixture reads testdata/test-only-<name>.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "test-only-"+name))
	require.NoError(t, err)
	return data
}

// pemDER returns the DER of the first PEM block of a fixture.
func pemDER(t testing.TB, name string) []byte {
	t.Helper()
	b, _ := pem.Decode(fixture(t, name))
	require.NotNil(t, b)
	return b.Bytes
}

var (
	longDigits = regexp.MustCompile(`[0-9]{20,}`)
	longHex    = regexp.MustCompile(`[0-9a-fA-F]{32,}`)
)

// assertNoKeyMaterial checks that msg holds no line of base64 from any key or
// certificate fixture or from extra, and no long run of digits or hex (a key's numbers).
func assertNoKeyMaterial(t testing.TB, msg string, extra ...[]byte) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "test-only-*.pem"))
	require.NoError(t, err)
	files = append(files, filepath.Join("testdata", "test-only-rsa2048.cer"))
	inputs := extra
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs = append(inputs, data)
	}
	for _, in := range inputs {
		for _, line := range strings.Split(string(normalisePEM(in)), "\n") {
			if len(line) < 16 || strings.HasPrefix(line, "-----") || strings.Contains(line, ":") {
				continue
			}
			require.NotContains(t, msg, line, "error text must not contain key material")
		}
	}
	assert.NotRegexp(t, longDigits, msg, "error text must not contain a key's numbers")
	assert.NotRegexp(t, longHex, msg, "error text must not contain a key's numbers")
}

// requireKeyError checks err against ErrKey and every sentinel, that its
// text holds every string of contains, and that it holds no key material.
func requireKeyError(t testing.TB, err error, sentinels []error, contains []string, input []byte) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrKey)
	for _, s := range sentinels {
		assert.ErrorIs(t, err, s)
	}
	for _, c := range contains {
		assert.Contains(t, err.Error(), c)
	}
	assertNoKeyMaterial(t, err.Error(), input)
}

func withPass(p string) []KeyOption { return []KeyOption{WithPassphrase([]byte(p))} }

func TestParsePrivateKeyFormats(t *testing.T) {
	rsaKey := testKey(t)
	tests := []struct {
		file string
		opts []KeyOption
		want string // describeKey of the public key
	}{
		{"rsa2048-pkcs8.pem", nil, "RSA-2048"},
		{"rsa2048-pkcs1.pem", nil, "RSA-2048"},
		{"rsa2048-pkcs8-crlf.pem", nil, "RSA-2048"},
		{"rsa2048-bundle.pem", nil, "RSA-2048"},
		{"rsa2048-pkcs8-aes256.pem", withPass(fixturePassphrase), "RSA-2048"},
		{"rsa2048-pkcs8-aes128-sha1.pem", withPass(fixturePassphrase), "RSA-2048"},
		{"rsa2048-pkcs8-aes192-sha512.pem", withPass(fixturePassphrase), "RSA-2048"},
		{"rsa2048-pkcs8-aes256-sha384.pem", withPass(fixturePassphrase), "RSA-2048"},
		{"rsa2048-pkcs1-aes256.pem", withPass(fixturePassphrase), "RSA-2048"},
		{"rsa2048-pkcs8.pem", withPass("ignored for a key that is not encrypted"), "RSA-2048"},
		{"ec-p256-sec1.pem", nil, "ECDSA P-256"},
		{"ec-p256-pkcs8.pem", nil, "ECDSA P-256"},
		{"ec-p384-pkcs8.pem", nil, "ECDSA P-384"},
		{"ec-p521-pkcs8.pem", nil, "ECDSA P-521"},
		{"ed25519-pkcs8.pem", nil, "ed25519.PublicKey"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			key, err := ParsePrivateKey(fixture(t, tt.file), tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, describeKey(key.Public()))
			if strings.HasPrefix(tt.file, "rsa2048") {
				assert.True(t, rsaKey.Equal(key), "the same key as the PKCS #8 fixture")
			}
		})
	}
	t.Run("EC PARAMETERS before the key", func(t *testing.T) {
		params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
		key, err := ParsePrivateKey(append(params, fixture(t, "ec-p256-sec1.pem")...))
		require.NoError(t, err)
		assert.Equal(t, "ECDSA P-256", describeKey(key.Public()))
	})
	t.Run("PKCS #8 labelled RSA PRIVATE KEY", func(t *testing.T) {
		data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pemDER(t, "rsa2048-pkcs8.pem")})
		key, err := ParsePrivateKey(data)
		require.NoError(t, err)
		assert.True(t, rsaKey.Equal(key))
	})
}

func TestParsePrivateKeyEnvironmentStyle(t *testing.T) {
	rsaKey := testKey(t)
	p8 := strings.TrimSpace(string(fixture(t, "rsa2048-pkcs8.pem")))
	legacy := strings.TrimSpace(string(fixture(t, "rsa2048-pkcs1-aes256.pem")))
	escaped := strings.ReplaceAll(p8, "\n", `\n`)
	tests := []struct {
		name  string
		input string
		opts  []KeyOption
	}{
		{"literal backslash-n", escaped, nil},
		{"literal backslash-n, double quotes", `"` + escaped + `"` + "\n", nil},
		{"literal backslash-r-backslash-n", strings.ReplaceAll(p8, "\n", `\r\n`), nil},
		{"single quotes around lines", "'" + p8 + "'", nil},
		{"double quotes and white space", " \t\"" + p8 + "\"\n\n", nil},
		{"CRLF", strings.ReplaceAll(p8, "\n", "\r\n"), nil},
		{"CR", strings.ReplaceAll(p8, "\n", "\r"), nil},
		{"indented lines (YAML)", "    " + strings.ReplaceAll(p8, "\n", "\n    ") + "\n", nil},
		{"byte order mark", "\ufeff" + p8, nil},
		{"legacy encrypted headers, literal backslash-n", strings.ReplaceAll(legacy, "\n", `\n`), withPass(fixturePassphrase)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParsePrivateKey([]byte(tt.input), tt.opts...)
			require.NoError(t, err)
			assert.True(t, rsaKey.Equal(key))
		})
	}
}

func TestParsePrivateKeyRefusals(t *testing.T) {
	keyDER := pemDER(t, "rsa2048-pkcs8.pem")
	p8 := string(fixture(t, "rsa2048-pkcs8.pem"))
	legacy := string(fixture(t, "rsa2048-pkcs1-aes256.pem"))
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	garbage := bytes.Repeat([]byte{0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef}, 16)
	xKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	x25519, err := x509.MarshalPKCS8PrivateKey(xKey)
	require.NoError(t, err)
	encryptedHint := []string{"WithPassphrase", "openssl pkey -in enc.pem -out key.pem"}

	tests := []struct {
		name      string
		input     []byte
		opts      []KeyOption
		sentinels []error
		contains  []string
	}{
		{"empty", nil, nil, []error{ErrNoPEM}, []string{"empty", "PRIVATE KEY"}},
		{"white space", []byte(" \n\t "), nil, []error{ErrNoPEM}, []string{"empty"}},
		{"text", []byte("privatekey.pem"), nil, []error{ErrNoPEM}, []string{"-----BEGIN", "private key"}},
		{"binary DER", keyDER, nil, []error{ErrNoPEM}, []string{"binary DER", "-inform DER"}},
		{"base64 without armour", []byte(base64.StdEncoding.EncodeToString(keyDER)), nil, []error{ErrNoPEM}, []string{"without its -----BEGIN"}},
		{"public key", fixture(t, "rsa2048-public.pem"), nil, []error{ErrNotPrivateKey}, []string{"public key (PUBLIC KEY)", "privatekey.pem"}},
		{"RSA public key", fixture(t, "rsa2048-public-pkcs1.pem"), nil, []error{ErrNotPrivateKey}, []string{"RSA PUBLIC KEY"}},
		{"certificate", fixture(t, "rsa2048.cer"), nil, []error{ErrNotPrivateKey}, []string{"certificate", "publickey.cer", "privatekey.pem"}},
		{"only EC PARAMETERS", block("EC PARAMETERS", []byte{0x06, 0x01, 0x00}), nil, []error{ErrNoPEM}, []string{"no private key"}},
		{"RSA 1024", fixture(t, "rsa1024-pkcs8.pem"), nil, nil, []string{"1024 bits", "2048"}},
		{"encrypted PKCS #8, no passphrase", fixture(t, "rsa2048-pkcs8-aes256.pem"), nil, []error{ErrEncryptedKey}, append([]string{"ENCRYPTED PRIVATE KEY", "PBES2"}, encryptedHint...)},
		{"legacy encrypted, no passphrase", fixture(t, "rsa2048-pkcs1-aes256.pem"), nil, []error{ErrEncryptedKey}, append([]string{"legacy PEM encryption AES-256-CBC"}, encryptedHint...)},
		{"PKCS #8 aes-256, wrong passphrase", fixture(t, "rsa2048-pkcs8-aes256.pem"), withPass("wrong"), []error{ErrWrongPassphrase}, []string{"passphrase"}},
		{"PKCS #8 aes-128 sha1, wrong passphrase", fixture(t, "rsa2048-pkcs8-aes128-sha1.pem"), withPass("wrong"), []error{ErrWrongPassphrase}, nil},
		{"PKCS #8, empty passphrase", fixture(t, "rsa2048-pkcs8-aes256.pem"), withPass(""), []error{ErrWrongPassphrase}, nil},
		{"legacy encrypted, wrong passphrase", fixture(t, "rsa2048-pkcs1-aes256.pem"), withPass("wrong"), []error{ErrWrongPassphrase}, nil},
		{"legacy encrypted, unknown cipher", []byte(strings.Replace(legacy, "DEK-Info: AES-256-CBC", "DEK-Info: FOO-CBC", 1)), withPass(fixturePassphrase), []error{ErrUnsupportedKey}, []string{"DEK-Info"}},
		{"legacy encrypted, no DEK-Info", []byte(regexp.MustCompile(`DEK-Info: .*\n`).ReplaceAllString(legacy, "")), withPass(fixturePassphrase), []error{ErrUnsupportedKey}, []string{"DEK-Info"}},
		{"PKCS #8 PBES1", fixture(t, "rsa2048-pkcs8-pbes1.pem"), withPass(fixturePassphrase), []error{ErrUnsupportedKey}, []string{"PKCS #12", "-v2 aes-256-cbc", "openssl pkey"}},
		{"encrypted PKCS #8, truncated", block("ENCRYPTED PRIVATE KEY", pemDER(t, "rsa2048-pkcs8-aes256.pem")[:600]), withPass(fixturePassphrase), []error{ErrMalformedKey}, []string{"damaged or truncated"}},
		{"truncated DER", block("PRIVATE KEY", keyDER[:len(keyDER)/2]), nil, []error{ErrMalformedKey}, []string{"damaged or truncated", "PRIVATE KEY"}},
		{"garbage DER", block("RSA PRIVATE KEY", garbage), nil, []error{ErrMalformedKey}, []string{"damaged or truncated"}},
		{"truncated PEM", []byte(p8[:len(p8)/2]), nil, []error{ErrMalformedKey}, []string{"-----END"}},
		{"bad base64", []byte(strings.Replace(p8, "A", "!", 1)), nil, []error{ErrMalformedKey}, []string{"base64"}},
		{"unknown block type", block("FOO BAR", keyDER), nil, []error{ErrUnsupportedKey}, []string{`"FOO BAR"`}},
		{"OpenSSH key", block("OPENSSH PRIVATE KEY", garbage), nil, []error{ErrUnsupportedKey}, []string{"ssh-keygen -p -m PKCS8"}},
		{"X25519 key", block("PRIVATE KEY", x25519), nil, []error{ErrUnsupportedKey}, []string{"*ecdh.PrivateKey cannot sign"}},
		{"two private keys", append(fixture(t, "rsa2048-pkcs8.pem"), fixture(t, "ec-p256-sec1.pem")...), nil, nil, []string{"more than one private key", "PRIVATE KEY and EC PRIVATE KEY"}},
		{"over 1 MiB", append(fixture(t, "rsa2048-pkcs8.pem"), bytes.Repeat([]byte("\n"), maxPEMBytes)...), nil, nil, []string{"1 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParsePrivateKey(tt.input, tt.opts...)
			assert.Nil(t, key)
			requireKeyError(t, err, tt.sentinels, tt.contains, tt.input)
		})
	}
}

func TestSignerFromPEMSignsVerifiably(t *testing.T) {
	digest := sha256.Sum256([]byte("header.payload"))
	for _, tt := range []struct {
		file string
		opts []KeyOption
	}{
		{"rsa2048-pkcs8.pem", nil},
		{"rsa2048-pkcs1.pem", nil},
		{"rsa2048-pkcs8-aes256.pem", withPass(fixturePassphrase)},
		{"rsa2048-pkcs1-aes256.pem", withPass(fixturePassphrase)},
	} {
		t.Run(tt.file, func(t *testing.T) {
			s, err := SignerFromPEM(fixture(t, tt.file), tt.opts...)
			require.NoError(t, err)
			sig, err := s.SignDigest(context.Background(), digest[:], crypto.SHA256)
			require.NoError(t, err)
			assert.NoError(t, rsa.VerifyPKCS1v15(testCertKey(t), crypto.SHA256, digest[:], sig))
		})
	}
}

func TestSignerFromPEMRefusesKeysQlikCannotUse(t *testing.T) {
	for _, tt := range []struct{ file, contains string }{
		{"ec-p256-sec1.pem", "ECDSA"},
		{"ed25519-pkcs8.pem", "ed25519"},
		{"rsa1024-pkcs8.pem", "1024 bits"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			s, err := SignerFromPEM(fixture(t, tt.file))
			assert.Nil(t, s)
			requireKeyError(t, err, nil, []string{tt.contains}, nil)
		})
	}
}

func TestSignerFromPEMFile(t *testing.T) {
	dir := t.TempDir()
	s, err := SignerFromPEMFile(filepath.Join("testdata", "test-only-rsa2048-pkcs8-aes256.pem"), WithPassphrase([]byte(fixturePassphrase)))
	require.NoError(t, err)
	assert.True(t, testKey(t).PublicKey.Equal(s.Public()))

	big := filepath.Join(dir, "big.pem")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("A"), maxPEMBytes+1), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	cert := filepath.Join("testdata", "test-only-rsa2048.cer")

	tests := []struct {
		name      string
		path      string
		sentinels []error
		contains  []string
	}{
		{"missing", missing, []error{fs.ErrNotExist}, []string{missing}},
		{"directory", dir, nil, []string{dir + " is a directory", "privatekey.pem"}},
		{"over 1 MiB", big, nil, []string{"1 MiB", big}},
		{"certificate", cert, []error{ErrNotPrivateKey}, []string{cert}},
		{"empty path", "", nil, []string{"no key file path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := SignerFromPEMFile(tt.path)
			assert.Nil(t, s)
			requireKeyError(t, err, tt.sentinels, tt.contains, nil)
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads files of any mode")
		}
		path := filepath.Join(dir, "unreadable.pem")
		require.NoError(t, os.WriteFile(path, fixture(t, "rsa2048-pkcs8.pem"), 0o000))
		_, err := SignerFromPEMFile(path)
		requireKeyError(t, err, []error{fs.ErrPermission}, []string{path}, nil)
	})
}

func TestParsePublicKey(t *testing.T) {
	certPub := testCertKey(t)
	escapedCert := strings.ReplaceAll(strings.TrimSpace(string(fixture(t, "rsa2048.cer"))), "\n", `\n`)
	for _, tt := range []struct {
		name  string
		input []byte
	}{
		{"certificate", fixture(t, "rsa2048.cer")},
		{"certificate chain", append(fixture(t, "rsa2048.cer"), fixture(t, "rsa2048.cer")...)},
		{"certificate, literal backslash-n in quotes", []byte(`"` + escapedCert + `"`)},
		{"PUBLIC KEY", fixture(t, "rsa2048-public.pem")},
		{"RSA PUBLIC KEY", fixture(t, "rsa2048-public-pkcs1.pem")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicKey(tt.input)
			require.NoError(t, err)
			assert.True(t, certPub.Equal(pub))
		})
	}
	t.Run("ECDSA", func(t *testing.T) {
		key, err := ParsePrivateKey(fixture(t, "ec-p256-sec1.pem"))
		require.NoError(t, err)
		data, err := PublicKeyPEM(key.Public())
		require.NoError(t, err)
		pub, err := ParsePublicKey(data)
		require.NoError(t, err)
		assert.True(t, key.Public().(*ecdsa.PublicKey).Equal(pub))
	})
}

func TestParsePublicKeyRefusals(t *testing.T) {
	weak, err := x509.ParsePKCS8PrivateKey(pemDER(t, "rsa1024-pkcs8.pem"))
	require.NoError(t, err)
	weakPEM, err := PublicKeyPEM(weak.(crypto.Signer).Public())
	require.NoError(t, err)
	garbage := bytes.Repeat([]byte{0x30, 0x82, 0x01, 0x00}, 32)
	block2 := func(typ string) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: garbage}) }
	notPublic := "private key given where a public key or certificate belongs; give the certificate (publickey.cer)"

	tests := []struct {
		name      string
		input     []byte
		sentinels []error
		contains  []string
	}{
		{"private key", fixture(t, "rsa2048-pkcs8.pem"), []error{ErrNotPublicKey}, []string{notPublic}},
		{"encrypted private key", fixture(t, "rsa2048-pkcs8-aes256.pem"), []error{ErrNotPublicKey}, []string{notPublic}},
		{"bundle with a private key", fixture(t, "rsa2048-bundle.pem"), []error{ErrNotPublicKey}, []string{notPublic}},
		{"empty", nil, []error{ErrNoPEM}, []string{"certificate"}},
		{"RSA 1024", weakPEM, nil, []string{"1024 bits"}},
		{"garbage CERTIFICATE", block2("CERTIFICATE"), []error{ErrMalformedKey}, []string{"certificate"}},
		{"garbage PUBLIC KEY", block2("PUBLIC KEY"), []error{ErrMalformedKey}, []string{"PUBLIC KEY"}},
		{"garbage RSA PUBLIC KEY", block2("RSA PUBLIC KEY"), []error{ErrMalformedKey}, []string{"RSA PUBLIC KEY"}},
		{"unknown block", block2("X509 CRL"), []error{ErrUnsupportedKey}, []string{`"X509 CRL"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicKey(tt.input)
			assert.Nil(t, pub)
			requireKeyError(t, err, tt.sentinels, tt.contains, tt.input)
		})
	}
}

func TestParseCertificate(t *testing.T) {
	cert, err := ParseCertificate(fixture(t, "rsa2048.cer"))
	require.NoError(t, err)
	assert.Equal(t, "qsjwt test only", cert.Subject.CommonName)
	assert.True(t, testCertKey(t).Equal(cert.PublicKey))

	cert, err = ParseCertificate(fixture(t, "rsa2048-public.pem"))
	assert.Nil(t, cert)
	requireKeyError(t, err, nil, []string{"public key (PUBLIC KEY) was given where a certificate belongs", "publickey.cer"}, nil)

	cert, err = ParseCertificate(fixture(t, "rsa2048-bundle.pem"))
	assert.Nil(t, cert)
	requireKeyError(t, err, []error{ErrNotPublicKey}, nil, nil)
}

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		typ  KeyType
		name string
		want string
		slow bool
	}{
		{RSA2048, "RSA-2048", "RSA-2048", false},
		{RSA3072, "RSA-3072", "RSA-3072", true},
		{RSA4096, "RSA-4096", "RSA-4096", true},
		{ECDSAP256, "ECDSA-P256", "ECDSA P-256", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.typ.String())
			if tt.slow && testing.Short() {
				t.Skip("slow key generation in -short mode")
			}
			key, err := GenerateKey(tt.typ)
			require.NoError(t, err)
			assert.Equal(t, tt.want, describeKey(key.Public()))
		})
	}
	for _, typ := range []KeyType{0, ECDSAP256 + 1} {
		key, err := GenerateKey(typ)
		assert.Nil(t, key)
		requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{typ.String(), "RSA4096"}, nil)
	}
}

func TestSelfSignedCertificate(t *testing.T) {
	key := testKey(t)
	cert, err := SelfSignedCertificate(key, WithCertificateClock(fixedClock))
	require.NoError(t, err)

	assert.Equal(t, x509.SHA256WithRSA, cert.SignatureAlgorithm)
	require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature), "signed by its own key")
	assert.True(t, key.PublicKey.Equal(cert.PublicKey))
	assert.Equal(t, DefaultCommonName, cert.Subject.CommonName)
	assert.Equal(t, "qs-jwt", cert.Issuer.CommonName)
	assert.Equal(t, fixedNow.Add(-time.Minute), cert.NotBefore)
	assert.Equal(t, fixedNow.Add(1825*24*time.Hour), cert.NotAfter)
	assert.Equal(t, 1, cert.SerialNumber.Sign(), "serial is positive")
	assert.LessOrEqual(t, cert.SerialNumber.BitLen(), 128)

	again, err := SelfSignedCertificate(key, WithCertificateClock(fixedClock))
	require.NoError(t, err)
	assert.NotEqual(t, 0, cert.SerialNumber.Cmp(again.SerialNumber), "serials are random")

	parsed, err := ParseCertificate(CertificatePEM(cert))
	require.NoError(t, err)
	assert.True(t, cert.Equal(parsed), "round trip through PEM")

	cert, err = SelfSignedCertificate(key, WithCommonName("qlik-prod"), WithValidity(48*time.Hour), WithCertificateClock(fixedClock))
	require.NoError(t, err)
	assert.Equal(t, "qlik-prod", cert.Subject.CommonName)
	assert.Equal(t, fixedNow.Add(48*time.Hour), cert.NotAfter)

	ec, err := ParsePrivateKey(fixture(t, "ec-p256-sec1.pem"))
	require.NoError(t, err)
	cert, err = SelfSignedCertificate(ec)
	require.NoError(t, err)
	assert.Equal(t, x509.ECDSAWithSHA256, cert.SignatureAlgorithm)
	assert.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature))
	assert.WithinDuration(t, time.Now().Add(-time.Minute), cert.NotBefore, time.Minute, "default clock is time.Now")
}

func TestSelfSignedCertificateRefusals(t *testing.T) {
	ed, err := ParsePrivateKey(fixture(t, "ed25519-pkcs8.pem"))
	require.NoError(t, err)
	weak, err := x509.ParsePKCS8PrivateKey(pemDER(t, "rsa1024-pkcs8.pem"))
	require.NoError(t, err)

	tests := []struct {
		name      string
		key       crypto.Signer
		opts      []CertificateOption
		sentinels []error
		contains  []string
	}{
		{"every bad option at once", testKey(t), []CertificateOption{WithCommonName(" "), WithValidity(0), WithCertificateClock(nil)},
			[]error{ErrInvalidOption}, []string{"WithCommonName: the common name is empty", "WithValidity", "WithCertificateClock"}},
		{"negative validity", testKey(t), []CertificateOption{WithValidity(-time.Hour)}, []error{ErrInvalidOption}, []string{"WithValidity", "-1h0m0s"}},
		{"long common name", testKey(t), []CertificateOption{WithCommonName(strings.Repeat("x", 65))}, []error{ErrInvalidOption}, []string{"65 characters"}},
		{"nil key", nil, nil, nil, []string{"no key"}},
		{"Ed25519", ed.(crypto.Signer), nil, []error{ErrUnsupportedKey}, []string{"SHA-256"}},
		{"RSA 1024", weak.(crypto.Signer), nil, nil, []string{"1024 bits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := SelfSignedCertificate(tt.key, tt.opts...)
			assert.Nil(t, cert)
			requireKeyError(t, err, tt.sentinels, tt.contains, nil)
		})
	}
	_, err = SelfSignedCertificate(testKey(t), WithCommonName(""), WithValidity(0))
	var oe *OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithCommonName", oe.Option)
}

func TestKeyPEMRoundTrip(t *testing.T) {
	for _, file := range []string{"rsa2048-pkcs8.pem", "ec-p256-sec1.pem", "ed25519-pkcs8.pem"} {
		t.Run(file, func(t *testing.T) {
			key, err := ParsePrivateKey(fixture(t, file))
			require.NoError(t, err)

			data, err := PrivateKeyPEM(key)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")), "PKCS #8")
			back, err := ParsePrivateKey(data)
			require.NoError(t, err)
			assert.True(t, key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(back))

			data, err = PublicKeyPEM(key.Public())
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(data, []byte("-----BEGIN PUBLIC KEY-----\n")), "PKIX")
			pub, err := ParsePublicKey(data)
			require.NoError(t, err)
			assert.True(t, key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
		})
	}

	_, err := PrivateKeyPEM(opaqueSigner{key: testKey(t)})
	requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{"RSA-2048", "qsjwt.opaqueSigner"}, nil)
	_, err = PrivateKeyPEM(nil)
	requireKeyError(t, err, nil, []string{"no private key"}, nil)
	_, err = PublicKeyPEM(nil)
	requireKeyError(t, err, nil, []string{"no public key"}, nil)
	_, err = PublicKeyPEM(struct{}{})
	requireKeyError(t, err, []error{ErrUnsupportedKey}, nil, nil)
	assert.Nil(t, CertificatePEM(nil))
}

func TestThumbprint(t *testing.T) {
	// RFC 7638, section 3.1.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	require.NoError(t, err)
	rfc := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	got, err := Thumbprint(rfc)
	require.NoError(t, err)
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", got)

	// Expected values computed independently with jwx's jwk.Thumbprint.
	for _, tt := range []struct{ file, want string }{
		{"rsa2048-pkcs8.pem", "ERzXiMXzbwJYMrBGPNDiHspEAZ2KieoKt7sxqr59UjM"},
		{"ec-p256-sec1.pem", "rg81Yq4nwEVAr_akvJABU2l2Y4ivsQC1ihX6pvnttFo"},
		{"ec-p384-pkcs8.pem", "GZdjNy9AfNQWYmJmbGpKbFCo78eDSktbk4_yz_JA_ME"},
		{"ec-p521-pkcs8.pem", "1VBZaHZswPDcNTmLt2ez9dnbkeoZwiEiqmpktRRTT60"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			key, err := ParsePrivateKey(fixture(t, tt.file))
			require.NoError(t, err)
			got, err := Thumbprint(key.Public())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	fromCert, err := Thumbprint(testCertKey(t))
	require.NoError(t, err)
	assert.Equal(t, "ERzXiMXzbwJYMrBGPNDiHspEAZ2KieoKt7sxqr59UjM", fromCert, "the certificate's key has the private key's thumbprint")

	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for name, pub := range map[string]crypto.PublicKey{"P-224": &p224.PublicKey, "Ed25519": edPub, "nil": nil} {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := Thumbprint(pub)
			requireKeyError(t, err, []error{ErrUnsupportedKey}, nil, nil)
		})
	}
	_, err = Thumbprint(&rsa.PublicKey{})
	requireKeyError(t, err, nil, []string{"empty"}, nil)
}

// readAll reads every regular file in dir, by name.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = data
	}
	return files
}

func TestWriteKeyFiles(t *testing.T) {
	key := testKey(t)
	cert, err := SelfSignedCertificate(key, WithCertificateClock(fixedClock))
	require.NoError(t, err)
	dir := t.TempDir()
	prefix := dir + string(filepath.Separator)

	files, err := WriteKeyFiles(prefix, key, cert, false)
	require.NoError(t, err)
	assert.Equal(t, KeyFiles{
		PrivateKey:  filepath.Join(dir, "privatekey.pem"),
		PublicKey:   filepath.Join(dir, "publickey.pem"),
		Certificate: filepath.Join(dir, "publickey.cer"),
	}, files)
	for path, mode := range map[string]fs.FileMode{files.PrivateKey: 0o600, files.PublicKey: 0o644, files.Certificate: 0o644} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, mode, fi.Mode().Perm(), path)
	}
	written := readAll(t, dir)
	assert.Len(t, written, 3, "no temporary file is left")
	back, err := ParsePrivateKey(written["privatekey.pem"])
	require.NoError(t, err)
	assert.True(t, key.Equal(back))
	pub, err := ParsePublicKey(written["publickey.pem"])
	require.NoError(t, err)
	assert.True(t, key.PublicKey.Equal(pub))
	backCert, err := ParseCertificate(written["publickey.cer"])
	require.NoError(t, err)
	assert.True(t, cert.Equal(backCert))

	t.Run("refuses to overwrite and writes nothing", func(t *testing.T) {
		other, err := GenerateKey(RSA2048)
		require.NoError(t, err)
		otherCert, err := SelfSignedCertificate(other)
		require.NoError(t, err)
		_, err = WriteKeyFiles(prefix, other, otherCert, false)
		requireKeyError(t, err, []error{fs.ErrExist}, []string{files.PrivateKey, files.PublicKey, files.Certificate, "--force", "overwrite", "nothing was written"}, nil)
		assert.Equal(t, written, readAll(t, dir), "existing files are unchanged")
	})

	t.Run("one existing file stops all three", func(t *testing.T) {
		dir := t.TempDir()
		existing := filepath.Join(dir, "qlik-publickey.cer")
		require.NoError(t, os.WriteFile(existing, []byte("keep me"), 0o644))
		_, err := WriteKeyFiles(filepath.Join(dir, "qlik-"), key, cert, false)
		requireKeyError(t, err, []error{fs.ErrExist}, []string{existing}, nil)
		assert.NotContains(t, err.Error(), "privatekey.pem")
		assert.Equal(t, map[string][]byte{"qlik-publickey.cer": []byte("keep me")}, readAll(t, dir))
	})

	t.Run("overwrite replaces and tightens the mode", func(t *testing.T) {
		dir := t.TempDir()
		private := filepath.Join(dir, "privatekey.pem")
		require.NoError(t, os.WriteFile(private, []byte("old"), 0o644))
		require.NoError(t, os.Chmod(private, 0o644))
		files, err := WriteKeyFiles(dir+"/", key, cert, true)
		require.NoError(t, err)
		fi, err := os.Stat(files.PrivateKey)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
		assert.Equal(t, written, readAll(t, dir))
	})

	other, err := ParsePrivateKey(fixture(t, "ec-p256-sec1.pem"))
	require.NoError(t, err)
	targetDir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(targetDir, "privatekey.pem"), 0o755))
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		name      string
		prefix    string
		key       crypto.Signer
		cert      *x509.Certificate
		overwrite bool
		sentinels []error
		contains  []string
	}{
		{"missing directory", missing + "/", key, cert, false, []error{fs.ErrNotExist}, []string{missing, "create it first"}},
		{"prefix under a file", files.PrivateKey + "/", key, cert, false, nil, []string{files.PrivateKey}},
		{"target is a directory", targetDir + "/", key, cert, true, nil, []string{"is a directory"}},
		{"certificate of another key", t.TempDir() + "/", other, cert, false, nil, []string{"not for this key", "RSA-2048", "ECDSA P-256"}},
		{"no certificate", t.TempDir() + "/", key, nil, false, nil, []string{"no certificate"}},
		{"no key", t.TempDir() + "/", nil, cert, false, nil, []string{"no private key"}},
		{"key in an HSM", t.TempDir() + "/", opaqueSigner{key: key}, cert, false, []error{ErrUnsupportedKey}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WriteKeyFiles(tt.prefix, tt.key, tt.cert, tt.overwrite)
			requireKeyError(t, err, tt.sentinels, tt.contains, nil)
		})
	}
}

func TestKeyValuesPrintNoKeyMaterial(t *testing.T) {
	s, err := SignerFromPEM(fixture(t, "rsa2048-pkcs8.pem"))
	require.NoError(t, err)
	key := testKey(t)
	secrets := []string{fixturePassphrase, key.N.String(), fmt.Sprintf("%x", key.N), key.D.String()}
	values := []any{WithPassphrase([]byte(fixturePassphrase)), s, RSA4096, KeyFiles{PrivateKey: "privatekey.pem"}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range secrets {
				assert.NotContains(t, out, secret, "%s of %T", verb, v)
			}
		}
	}
	assert.Equal(t, "qsjwt.WithPassphrase(redacted)", fmt.Sprintf("%#v", WithPassphrase([]byte(fixturePassphrase))))
	assert.Equal(t, "qsjwt.Signer(RSA-2048)", fmt.Sprintf("%+v", s))
}
