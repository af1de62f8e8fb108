package qsjwt

// This file writes a new key and its certificate to files.

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFiles are the paths [WriteKeyFiles] wrote.
type KeyFiles struct {
	// PrivateKey is <prefix>privatekey.pem: PKCS #8, mode 0600.
	PrivateKey string
	// PublicKey is <prefix>publickey.pem: PKIX, mode 0644.
	PublicKey string
	// Certificate is <prefix>publickey.cer: the PEM certificate Qlik is
	// given, mode 0644.
	Certificate string
}

// WriteKeyFiles writes key and its certificate cert as <prefix>privatekey.pem
// (PKCS #8, mode 0600), <prefix>publickey.pem (PKIX, 0644) and
// <prefix>publickey.cer (PEM certificate, 0644); prefix is a directory with a
// trailing separator ("keys/"), a file name prefix ("keys/qlik-") or empty.
//
// Before it writes anything it checks that the directory exists, that cert is
// for key and, unless overwrite is true, that none of the three files exists:
// an existing one is an error that wraps fs.ErrExist, names the files, and
// leaves everything as it was. Each file is then written in full to a
// temporary file (mode 0600) in the same directory; only when all three are
// written are they renamed into place, so no reader sees half a file and the
// private key is never readable by others. Temporary files are removed on
// failure.
func WriteKeyFiles(prefix string, key crypto.Signer, cert *x509.Certificate, overwrite bool) (KeyFiles, error) {
	if cert == nil {
		return KeyFiles{}, keyError(nil, "no certificate given to WriteKeyFiles; make one with SelfSignedCertificate")
	}
	keyPEM, err := PrivateKeyPEM(key)
	if err != nil {
		return KeyFiles{}, err
	}
	pubPEM, err := PublicKeyPEM(key.Public())
	if err != nil {
		return KeyFiles{}, err
	}
	if eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return KeyFiles{}, keyError(nil, "the certificate (%s) is not for this key (%s)", describeKey(cert.PublicKey), describeKey(key.Public()))
	}

	files := KeyFiles{PrivateKey: prefix + "privatekey.pem", PublicKey: prefix + "publickey.pem", Certificate: prefix + "publickey.cer"}
	targets := []struct {
		path string
		data []byte
		mode fs.FileMode
	}{
		{files.PrivateKey, keyPEM, 0o600},
		{files.PublicKey, pubPEM, 0o644},
		{files.Certificate, CertificatePEM(cert), 0o644},
	}
	dir := filepath.Dir(files.PrivateKey)
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return KeyFiles{}, fmt.Errorf("%w: the directory %s for the key files does not exist; create it first (%w)", ErrKey, dir, err)
	case err != nil:
		return KeyFiles{}, fmt.Errorf("%w: the directory %s for the key files cannot be used: %w", ErrKey, dir, err)
	case !fi.IsDir():
		return KeyFiles{}, keyError(nil, "%s is not a directory; the key files cannot go in it", dir)
	}
	var existing []string
	for _, t := range targets {
		fi, err := os.Lstat(t.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return KeyFiles{}, fmt.Errorf("%w: cannot check %s: %w", ErrKey, t.path, err)
		case fi.IsDir():
			return KeyFiles{}, keyError(nil, "%s is a directory; nothing was written", t.path)
		case !overwrite:
			existing = append(existing, t.path)
		}
	}
	if len(existing) > 0 {
		return KeyFiles{}, fmt.Errorf("%w: %w: %s; nothing was written; use --force (overwrite) to replace them", ErrKey, fs.ErrExist, strings.Join(existing, ", "))
	}

	temps := make([]string, 0, len(targets))
	defer func() {
		for _, tmp := range temps {
			os.Remove(tmp) // after a successful rename the name is gone; this is a no-op
		}
	}()
	for _, t := range targets {
		tmp, err := writeTemp(dir, t.data, t.mode)
		if err != nil {
			return KeyFiles{}, fmt.Errorf("%w: writing %s: %w", ErrKey, t.path, err)
		}
		temps = append(temps, tmp)
	}
	for i, t := range targets {
		if err := os.Rename(temps[i], t.path); err != nil {
			return KeyFiles{}, fmt.Errorf("%w: writing %s: %w", ErrKey, t.path, err)
		}
	}
	return files, nil
}

// writeTemp writes data to a new temporary file in dir, created with mode
// 0600 and set to mode once written, and returns its name.
func writeTemp(dir string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".qsjwt-*.tmp")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
