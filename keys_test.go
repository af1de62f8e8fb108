package qsjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
	base64Run  = regexp.MustCompile(`[A-Za-z0-9+/=_-]{40,}`)
)

// secretBodies returns the base64 body of every key, certificate and PFX
// fixture and of extra, each as one line: what an echo of a key would show.
func secretBodies(t testing.TB, extra ...[]byte) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "test-only-*"))
	require.NoError(t, err)
	var bodies []string
	add := func(data []byte) {
		var body strings.Builder
		for _, line := range strings.Split(string(normalisePEM(data)), "\n") {
			if !strings.HasPrefix(line, "-----") && !strings.Contains(line, ":") {
				body.WriteString(line)
			}
		}
		bodies = append(bodies, body.String(), base64.StdEncoding.EncodeToString(data), base64.RawURLEncoding.EncodeToString(data))
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".pem") || strings.HasSuffix(f, ".cer") || strings.HasSuffix(f, ".p12") || strings.HasSuffix(f, ".pfx") {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			add(data)
		}
	}
	for _, e := range extra {
		add(e)
	}
	return bodies
}

// assertNoKeyMaterial checks that msg holds no 40-character run of the
// base64 of any key, certificate or PFX fixture or of extra, not the
// fixtures' passphrase, and no long run of digits or hex (a key's numbers).
func assertNoKeyMaterial(t testing.TB, msg string, extra ...[]byte) {
	t.Helper()
	bodies := secretBodies(t, extra...)
	for _, run := range base64Run.FindAllString(msg, -1) {
		for i := 0; i+40 <= len(run); i++ {
			for _, body := range bodies {
				if strings.Contains(body, run[i:i+40]) {
					t.Fatalf("text holds key material %q...: %s", run[i:i+12], base64Run.ReplaceAllString(msg, "<base64>"))
				}
			}
		}
	}
	assert.NotContains(t, msg, fixturePassphrase, "text must not contain the passphrase")
	assert.NotRegexp(t, longDigits, msg, "text must not contain a key's numbers")
	assert.NotRegexp(t, longHex, msg, "text must not contain a key's numbers")
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
		{"empty", nil, nil, []error{errNoPEM}, []string{"empty", "PRIVATE KEY"}},
		{"white space", []byte(" \n\t "), nil, []error{errNoPEM}, []string{"empty"}},
		{"text", []byte("not a key"), nil, []error{errNoPEM}, []string{"-----BEGIN", "private key"}},
		{"a file name", []byte("keys/privatekey.pem"), nil, []error{errNoPEM}, []string{"looks like a file name", "SignerFromPEMFile"}},
		{"binary DER", keyDER, nil, []error{errNoPEM}, []string{"binary DER", "-inform DER"}},
		{"base64 without armour", []byte(base64.StdEncoding.EncodeToString(keyDER)), nil, []error{errNoPEM}, []string{"without its -----BEGIN"}},
		{"public key", fixture(t, "rsa2048-public.pem"), nil, []error{errNotPrivateKey}, []string{"public key (PUBLIC KEY)", "privatekey.pem"}},
		{"RSA public key", fixture(t, "rsa2048-public-pkcs1.pem"), nil, []error{errNotPrivateKey}, []string{"RSA PUBLIC KEY"}},
		{"certificate", fixture(t, "rsa2048.cer"), nil, []error{errNotPrivateKey}, []string{"certificate", "publickey.cer", "privatekey.pem"}},
		{"only EC PARAMETERS", block("EC PARAMETERS", []byte{0x06, 0x01, 0x00}), nil, []error{errNoPEM}, []string{"no private key"}},
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
		{"encrypted PKCS #8, truncated", block("ENCRYPTED PRIVATE KEY", pemDER(t, "rsa2048-pkcs8-aes256.pem")[:600]), withPass(fixturePassphrase), []error{errMalformedKey}, []string{"damaged or truncated"}},
		{"truncated DER", block("PRIVATE KEY", keyDER[:len(keyDER)/2]), nil, []error{errMalformedKey}, []string{"damaged or truncated", "PRIVATE KEY"}},
		{"garbage DER", block("RSA PRIVATE KEY", garbage), nil, []error{errMalformedKey}, []string{"damaged or truncated"}},
		{"truncated PEM", []byte(p8[:len(p8)/2]), nil, []error{errMalformedKey}, []string{"-----END"}},
		{"bad base64", []byte(strings.Replace(p8, "A", "!", 1)), nil, []error{errMalformedKey}, []string{"base64"}},
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
		{"certificate", cert, []error{errNotPrivateKey}, []string{cert}},
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
		data, err := publicKeyPEM(key.Public())
		require.NoError(t, err)
		pub, err := ParsePublicKey(data)
		require.NoError(t, err)
		assert.True(t, key.Public().(*ecdsa.PublicKey).Equal(pub))
	})
}

func TestParsePublicKeyRefusals(t *testing.T) {
	weak, err := x509.ParsePKCS8PrivateKey(pemDER(t, "rsa1024-pkcs8.pem"))
	require.NoError(t, err)
	weakPEM, err := publicKeyPEM(weak.(crypto.Signer).Public())
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
		{"private key", fixture(t, "rsa2048-pkcs8.pem"), []error{errNotPublicKey}, []string{notPublic}},
		{"encrypted private key", fixture(t, "rsa2048-pkcs8-aes256.pem"), []error{errNotPublicKey}, []string{notPublic}},
		{"bundle with a private key", fixture(t, "rsa2048-bundle.pem"), []error{errNotPublicKey}, []string{notPublic}},
		{"empty", nil, []error{errNoPEM}, []string{"certificate"}},
		{"RSA 1024", weakPEM, nil, []string{"1024 bits"}},
		{"garbage CERTIFICATE", block2("CERTIFICATE"), []error{errMalformedKey}, []string{"certificate"}},
		{"garbage PUBLIC KEY", block2("PUBLIC KEY"), []error{errMalformedKey}, []string{"PUBLIC KEY"}},
		{"garbage RSA PUBLIC KEY", block2("RSA PUBLIC KEY"), []error{errMalformedKey}, []string{"RSA PUBLIC KEY"}},
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
	requireKeyError(t, err, []error{errNotPublicKey}, nil, nil)
}
