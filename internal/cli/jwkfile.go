package cli

// This file writes and prints the public JWK of a key, for the places
// Qlik Cloud registers a key as a JSON Web Key (an OAuth client).

import (
	"crypto"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/qsjwt/qsjwt"
)

// jwkPath is the JWK file keygen --jwk writes next to the other key files.
func jwkPath(prefix string) string { return prefix + "publickey.jwk" }

// PublicJWK is the public JWK of pub with key ID kid (its thumbprint when
// kid is empty), ending in a newline.
func PublicJWK(pub crypto.PublicKey, kid, flag string) ([]byte, error) {
	data, err := qsjwt.PublicJWK(pub, kid)
	if err != nil {
		return nil, LibError(err, flag, nil)
	}
	return append(data, '\n'), nil
}

// checkJWKFree refuses, before any key file is written, a JWK file that
// exists when it may not be overwritten, so that keygen --jwk writes all
// four files or none.
func checkJWKFree(path string, force bool) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return Failf("--cert-file-prefix", "cannot check %s: %v", Quote(path), errors.Unwrap(err))
	case fi.IsDir():
		return Failf("--cert-file-prefix", "%s is a directory; nothing was written", Quote(path))
	case !force:
		return Failf("--force", "%s exists; nothing was written; use --force (overwrite) to replace the key files", Quote(path))
	}
	return nil
}

// writeJWK writes data to path, mode 0644, never half a file: it is
// written to a temporary file in the same directory and published with a
// hard link, which fails when path exists (even if another program made it
// since checkJWKFree), or renamed over path with force.
func writeJWK(path string, data []byte, force bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".qsjwt-*.tmp")
	if err != nil {
		return Failf("--cert-file-prefix", "cannot write %s: %v", Quote(path), err)
	}
	temp := f.Name()
	defer os.Remove(temp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && force {
		err = os.Rename(temp, path)
	} else if err == nil {
		if err = os.Link(temp, path); err != nil && !errors.Is(err, fs.ErrExist) {
			err = writeNew(path, data) // no hard links on this file system
		}
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		return Failf("--force", "%s was created by another program while the key files were written; it was left as it is, and the JWK was not written (print it with qs-jwt idp-config --jwk)", Quote(path))
	case err != nil:
		return Failf("--cert-file-prefix", "cannot write %s: %v", Quote(path), err)
	}
	return nil
}

// writeNew creates path exclusively with mode 0644 and writes data.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
