package qsjwt

import (
	"crypto"
	"crypto/x509"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	cert, err := SelfSignedCertificate(key, withCertificateClock(fixedClock))
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
