package cli

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readCert reads a certificate file with the standard library.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	require.Equal(t, "CERTIFICATE", block.Type)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

// keygenFiles runs keygen into a new directory, registers the new private
// key as a secret no output may show, and returns the directory's prefix.
func keygen(t *testing.T, args ...string) (runResult, string) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "qlik-")
	r := qsArgs(t, append([]string{"keygen", "--cert-file-prefix", prefix}, args...)...)
	if b, err := os.ReadFile(prefix + "privatekey.pem"); err == nil {
		addSecret(string(b))
		assertNoSecrets(t, r.stdout, r.stderr)
	}
	return r, prefix
}

func TestKeygenRSA(t *testing.T) {
	t.Parallel()
	r, prefix := keygen(t, "--bits", "2048", "--days", "10", "--cn", "pipeline")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)

	fi, err := os.Stat(prefix + "privatekey.pem")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the private key is readable by its owner only")
	keyPEM, err := os.ReadFile(prefix + "privatekey.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(keyPEM)
	require.Equal(t, "PRIVATE KEY", block.Type)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	key := k.(*rsa.PrivateKey)
	assert.Equal(t, 2048, key.N.BitLen())

	pubPEM, err := os.ReadFile(prefix + "publickey.pem")
	require.NoError(t, err)
	block, _ = pem.Decode(pubPEM)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	assert.True(t, key.PublicKey.Equal(pub))

	cert := readCert(t, prefix+"publickey.cer")
	assert.Equal(t, x509.SHA256WithRSA, cert.SignatureAlgorithm)
	assert.Equal(t, "pipeline", cert.Subject.CommonName)
	assert.True(t, key.PublicKey.Equal(cert.PublicKey))
	assert.Equal(t, 10*24*time.Hour+time.Minute, cert.NotAfter.Sub(cert.NotBefore), "--days 10, from a minute ago")
	require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature), "self-signed")

	for _, want := range []string{
		"private key: " + prefix + "privatekey.pem (mode 0600",
		"public key:  " + prefix + "publickey.pem\n",
		"certificate: " + prefix + "publickey.cer (self-signed, SHA-256, CN=pipeline, valid until " + cert.NotAfter.UTC().Format(time.DateOnly),
		"key ID:      " + thumbprint(&key.PublicKey) + " (RFC 7638",
	} {
		assert.Contains(t, r.stdout, want)
	}

	// The key signs tokens that verify with the certificate.
	tok := qsArgs(t, "create-qseow", "--userdir", "d", "--userid", "u", "--cert-privatekey-file", prefix+"privatekey.pem")
	token(t, tok, prefix+"publickey.cer")
}

func TestKeygenEC(t *testing.T) {
	r, prefix := keygen(t, "--type", "ec")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "qs-jwt: warning: an EC key cannot sign tokens Qlik accepts")
	cert := readCert(t, prefix+"publickey.cer")
	assert.Equal(t, x509.ECDSAWithSHA256, cert.SignatureAlgorithm)
	assert.IsType(t, &ecdsa.PublicKey{}, cert.PublicKey)
	assert.Equal(t, "qs-jwt", cert.Subject.CommonName, "default --cn")
	assert.Equal(t, 1825*24*time.Hour+time.Minute, cert.NotAfter.Sub(cert.NotBefore), "default --days")

	// An existing key is not overwritten without --force.
	before, err := os.ReadFile(prefix + "privatekey.pem")
	require.NoError(t, err)
	r = qsArgs(t, "keygen", "--type", "ec", "--cert-file-prefix", prefix)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, prefix+"privatekey.pem")
	assert.Contains(t, r.stderr, "nothing was written")
	assert.True(t, strings.HasSuffix(r.stderr, "(--force)\n"))
	after, err := os.ReadFile(prefix + "privatekey.pem")
	require.NoError(t, err)
	assert.Equal(t, before, after)

	// With --force it is.
	r = qsArgs(t, "keygen", "--type", "ec", "--cert-file-prefix", prefix, "--force")
	require.Equal(t, 0, r.code, r.stderr)
	after, err = os.ReadFile(prefix + "privatekey.pem")
	require.NoError(t, err)
	addSecret(string(after))
	assert.NotEqual(t, before, after)
	fi, err := os.Stat(prefix + "privatekey.pem")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestKeygenFailures(t *testing.T) {
	dir := t.TempDir()
	runFailCases(t, []string{"keygen", "--cert-file-prefix", dir + "/"}, []failCase{
		{"1024 bits", runOpts{}, []string{"--bits", "1024"}, 2, "--bits 1024 is not offered", "--bits"},
		{"bits for EC", runOpts{}, []string{"--type", "ec", "--bits", "2048"}, 2, "--bits is for RSA keys", "--bits"},
		{"unknown type", runOpts{}, []string{"--type", "dsa"}, 2, "give one of rsa, ec", "--type"},
		{"zero days", runOpts{}, []string{"--type", "ec", "--days", "0"}, 2, "out of range", "--days"},
		{"too many days", runOpts{}, []string{"--type", "ec", "--days", "40000"}, 2, "out of range", "--days"},
		{"not a number", runOpts{}, []string{"--days", "ten"}, 2, `--days takes a whole number, not "ten"`, "--days"},
		{"empty common name", runOpts{}, []string{"--type", "ec", "--cn", " "}, 2, "common name is empty", "--cn"},
		{"prefix given twice", runOpts{}, []string{"--type", "ec", "--cert-file-prefix", dir + "/x-"}, 2, "given twice", "--cert-file-prefix"},
	})
	r := qsArgs(t, "keygen", "--type", "ec", "--cert-file-prefix", dir+"/nope/")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "create it first")
	assert.Contains(t, r.stderr, "(--cert-file-prefix)")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no failure above wrote a file")
}
