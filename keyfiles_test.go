package qsjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
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

// keySet reads the three key files at prefix and requires them to be one
// set: the certificate's key, the public key file and the private key's
// public half are the same key. It returns that key.
func keySet(t *testing.T, prefix string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(prefix + "privatekey.pem")
	require.NoError(t, err)
	priv, err := ParsePrivateKey(data)
	require.NoError(t, err)
	data, err = os.ReadFile(prefix + "publickey.pem")
	require.NoError(t, err)
	pub, err := ParsePublicKey(data)
	require.NoError(t, err)
	data, err = os.ReadFile(prefix + "publickey.cer")
	require.NoError(t, err)
	cert, err := ParseCertificate(data)
	require.NoError(t, err)
	eq := priv.Public().(interface{ Equal(crypto.PublicKey) bool })
	require.True(t, eq.Equal(pub), "publickey.pem is the private key's public key")
	require.True(t, eq.Equal(cert.PublicKey), "publickey.cer is for the private key")
	return priv.Public()
}

// writers makes n ECDSA keys (fast to make; WriteKeyFiles writes any key)
// and their certificates.
func writers(t *testing.T, n int) ([]crypto.Signer, []*x509.Certificate) {
	keys := make([]crypto.Signer, n)
	certs := make([]*x509.Certificate, n)
	for i := range keys {
		var err error
		keys[i], err = GenerateKey(ECDSAP256)
		require.NoError(t, err)
		certs[i], err = SelfSignedCertificate(keys[i])
		require.NoError(t, err)
	}
	return keys, certs
}

// writeConcurrently starts every writer at once into prefix and returns
// each one's error.
func writeConcurrently(prefix string, keys []crypto.Signer, certs []*x509.Certificate, overwrite bool) []error {
	errs := make([]error, len(keys))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = WriteKeyFiles(prefix, keys[i], certs[i], overwrite)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// TestWriteKeyFilesConcurrentNew races many writers into one empty prefix:
// exactly one succeeds, the others get a clear error, and the files on disk
// are the winner's set, with nothing else left (issue 10.6).
func TestWriteKeyFilesConcurrentNew(t *testing.T) {
	const writersPerRound, rounds = 16, 25
	keys, certs := writers(t, writersPerRound)
	for round := range rounds {
		dir := t.TempDir()
		prefix := filepath.Join(dir, "qlik-")
		errs := writeConcurrently(prefix, keys, certs, false)
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: writers %d and %d both succeeded", round, winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, ErrKey)
			if !errors.Is(err, fs.ErrExist) {
				assert.Contains(t, err.Error(), "another writer is writing key files with this prefix")
			}
			assert.Contains(t, err.Error(), "nothing was written")
		}
		require.NotEqual(t, -1, winner, "round %d: one writer succeeds", round)
		assert.True(t, keys[winner].Public().(*ecdsa.PublicKey).Equal(keySet(t, prefix)), "the winner's key is on disk")
		assert.Len(t, readAll(t, dir), 3, "no temporary or lock file is left")
	}
}

// TestWriteKeyFilesConcurrentOverwrite races many overwriting writers into
// one prefix that holds a set: the files stay one set, that of a writer that
// succeeded, and nothing else is left.
func TestWriteKeyFilesConcurrentOverwrite(t *testing.T) {
	const writersPerRound, rounds = 16, 25
	keys, certs := writers(t, writersPerRound)
	dir := t.TempDir()
	prefix := dir + string(filepath.Separator)
	_, err := WriteKeyFiles(prefix, keys[0], certs[0], false)
	require.NoError(t, err)
	for round := range rounds {
		errs := writeConcurrently(prefix, keys, certs, true)
		onDisk := keySet(t, prefix).(*ecdsa.PublicKey)
		found := false
		for i, err := range errs {
			if err == nil && keys[i].Public().(*ecdsa.PublicKey).Equal(onDisk) {
				found = true
			} else if err != nil {
				assert.Contains(t, err.Error(), "another writer is writing key files with this prefix")
			}
		}
		assert.True(t, found, "round %d: the set on disk is that of a writer that succeeded", round)
		assert.Len(t, readAll(t, dir), 3, "no temporary or lock file is left")
	}
}

func TestWriteKeyFilesLock(t *testing.T) {
	keys, certs := writers(t, 1)
	dir := t.TempDir()
	lock := filepath.Join(dir, "qlik-keyfiles.lock")
	require.NoError(t, os.WriteFile(lock, nil, 0o600))
	_, err := WriteKeyFiles(filepath.Join(dir, "qlik-"), keys[0], certs[0], true)
	requireKeyError(t, err, nil, []string{"lock file " + lock + " exists", "nothing was written", "delete " + lock}, nil)
	assert.Equal(t, map[string][]byte{"qlik-keyfiles.lock": {}}, readAll(t, dir), "the lock is another writer's: left alone")

	require.NoError(t, os.Remove(lock))
	_, err = WriteKeyFiles(filepath.Join(dir, "qlik-"), keys[0], certs[0], false)
	require.NoError(t, err)
}

// TestPublishNewRollsBack: a file created by another program between the
// check and the publication stops the writer, which removes what it had
// published and leaves the other program's file alone.
func TestPublishNewRollsBack(t *testing.T) {
	dir := t.TempDir()
	var targets []keyFile
	for _, name := range []string{"a", "b", "c"} {
		tmp, err := writeTemp(dir, []byte("new "+name), 0o644)
		require.NoError(t, err)
		targets = append(targets, keyFile{path: filepath.Join(dir, name), data: []byte("new " + name), mode: 0o644, temp: tmp})
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b"), []byte("theirs"), 0o644))
	err := publishNew(targets)
	requireKeyError(t, err, []error{fs.ErrExist}, []string{filepath.Join(dir, "b"), "nothing was written"}, nil)
	for _, tt := range targets {
		require.NoError(t, os.Remove(tt.temp))
	}
	assert.Equal(t, map[string][]byte{"b": []byte("theirs")}, readAll(t, dir))
}

func TestWriteKeyFilesRefusesSecretPrefix(t *testing.T) {
	key := testKey(t)
	cert, err := SelfSignedCertificate(key)
	require.NoError(t, err)
	pemText := string(fixture(t, "rsa2048-pkcs8.pem"))
	_, err = WriteKeyFiles(pemText, key, cert, false)
	requireKeyError(t, err, nil, []string{"the prefix looks like PEM key text"}, []byte(pemText))
}
