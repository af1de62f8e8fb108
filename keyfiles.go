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
// leaves everything as it was.
//
// Guarantees, also under concurrency:
//   - One writer per prefix: WriteKeyFiles holds the lock file
//     <prefix>keyfiles.lock, created exclusively (O_EXCL), while it writes,
//     and removes it after. A second WriteKeyFiles with the same prefix meanwhile
//     fails at once, naming the lock file, and leaves nothing on disk. A
//     process that dies while writing leaves the lock file: delete it once
//     no writer runs.
//   - Never overwrites unless asked: each file is written in full to a
//     temporary file (mode 0600) in the same directory and published with a
//     hard link, which fails when the name exists, even if another program
//     created it after the check. If one of the three cannot be published,
//     the ones already published are removed, so the call leaves all three
//     or none. On a file system without hard links the files are created
//     with O_EXCL instead (then a reader may see a file being written).
//   - With overwrite, the three files are renamed into place in a fixed
//     order while the lock is held, so writers through WriteKeyFiles never
//     leave a key and a certificate of different keys. Only a crash between
//     the renames can: then run it again.
//
// No reader ever sees half a file (except on a file system without hard
// links, above), the private key is never readable by others, and
// temporary files are removed on failure.
func WriteKeyFiles(prefix string, key crypto.Signer, cert *x509.Certificate, overwrite bool) (KeyFiles, error) {
	if what := secretAsPath(prefix); what != "" {
		return KeyFiles{}, keyError(nil, "the prefix looks like %s, not a directory or file name prefix: give where the key files go, e.g. \"keys/\"", what)
	}
	if cert == nil {
		return KeyFiles{}, keyError(nil, "no certificate given to WriteKeyFiles; make one with SelfSignedCertificate")
	}
	keyPEM, err := privateKeyPEM(key)
	if err != nil {
		return KeyFiles{}, err
	}
	pubPEM, err := publicKeyPEM(key.Public())
	if err != nil {
		return KeyFiles{}, err
	}
	if eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return KeyFiles{}, keyError(nil, "the certificate (%s) is not for this key (%s)", describeKey(cert.PublicKey), describeKey(key.Public()))
	}

	files := KeyFiles{PrivateKey: prefix + "privatekey.pem", PublicKey: prefix + "publickey.pem", Certificate: prefix + "publickey.cer"}
	targets := []keyFile{
		{files.PrivateKey, keyPEM, 0o600, ""},
		{files.PublicKey, pubPEM, 0o644, ""},
		{files.Certificate, CertificatePEM(cert), 0o644, ""},
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

	unlock, err := lockPrefix(prefix)
	if err != nil {
		return KeyFiles{}, err
	}
	defer unlock()

	if err := checkTargets(targets, overwrite); err != nil {
		return KeyFiles{}, err
	}
	defer func() {
		for _, t := range targets {
			if t.temp != "" {
				os.Remove(t.temp) // after a rename the name is gone; this is a no-op
			}
		}
	}()
	for i := range targets {
		if targets[i].temp, err = writeTemp(dir, targets[i].data, targets[i].mode); err != nil {
			return KeyFiles{}, fmt.Errorf("%w: writing %s: %w", ErrKey, targets[i].path, err)
		}
	}
	if overwrite {
		for _, t := range targets {
			if err := os.Rename(t.temp, t.path); err != nil {
				return KeyFiles{}, fmt.Errorf("%w: writing %s: %w", ErrKey, t.path, err)
			}
		}
	} else if err := publishNew(targets); err != nil {
		return KeyFiles{}, err
	}
	syncDir(dir)
	return files, nil
}

// keyFile is one file WriteKeyFiles writes, and its temporary file.
type keyFile struct {
	path string
	data []byte
	mode fs.FileMode
	temp string
}

// lockPrefix creates <prefix>keyfiles.lock exclusively and returns the
// function that removes it.
func lockPrefix(prefix string) (unlock func(), err error) {
	lock := prefix + "keyfiles.lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, keyError(nil, "another writer is writing key files with this prefix: the lock file %s exists; nothing was written. Wait for it to finish; if none is running (a writer was killed), delete %s and try again", lock, lock)
	case err != nil:
		return nil, fmt.Errorf("%w: cannot create the lock file %s: %w", ErrKey, lock, err)
	}
	fmt.Fprintf(f, "qsjwt WriteKeyFiles, process %d\n", os.Getpid())
	f.Close()
	return func() { os.Remove(lock) }, nil
}

// checkTargets refuses a target that is a directory, and, unless overwrite,
// any target that exists (naming them all).
func checkTargets(targets []keyFile, overwrite bool) error {
	var existing []string
	for _, t := range targets {
		fi, err := os.Lstat(t.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("%w: cannot check %s: %w", ErrKey, t.path, err)
		case fi.IsDir():
			return keyError(nil, "%s is a directory; nothing was written", t.path)
		case !overwrite:
			existing = append(existing, t.path)
		}
	}
	if len(existing) > 0 {
		return existsError(existing...)
	}
	return nil
}

func existsError(paths ...string) error {
	return fmt.Errorf("%w: %w: %s; nothing was written; use --force (overwrite) to replace them", ErrKey, fs.ErrExist, strings.Join(paths, ", "))
}

// publishNew gives each target's temporary file its name, failing if the
// name exists, and removes the ones it published if any fails.
func publishNew(targets []keyFile) (err error) {
	var published []keyFile
	defer func() {
		if err != nil {
			for _, t := range published {
				removeIfSame(t.path, t.temp)
			}
		}
	}()
	for _, t := range targets {
		switch lerr := os.Link(t.temp, t.path); {
		case lerr == nil:
			published = append(published, t)
		case errors.Is(lerr, fs.ErrExist):
			return existsError(t.path)
		default: // no hard links here: create the file exclusively instead
			if err := writeExclusive(t.path, t.data, t.mode); err != nil {
				return fmt.Errorf("%w: writing %s: %w", ErrKey, t.path, err)
			}
			published = append(published, keyFile{path: t.path})
		}
	}
	return nil
}

// removeIfSame removes path if it is still the file temp (or, when temp is
// empty, the file this writer created), never another writer's file.
func removeIfSame(path, temp string) {
	if temp != "" {
		a, errA := os.Lstat(path)
		b, errB := os.Lstat(temp)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			return
		}
	}
	os.Remove(path)
}

// writeExclusive creates path with O_EXCL and mode and writes data to it.
func writeExclusive(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir flushes dir's entries, so that the new names survive a crash;
// where a directory cannot be synced, it does nothing.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
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
