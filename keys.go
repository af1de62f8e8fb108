package qsjwt

// This file reads the keys and certificates qsjwt signs and verifies with.
// keycheck.go decides which keys are accepted, pem.go finds the PEM blocks,
// keygen.go makes and encodes keys, keyfiles.go writes them, pkcs12.go reads
// PFX files and jwk.go reads and writes JSON Web Keys.
//
// Redaction, for all of these files: no error contains key material (PEM,
// base64, DER or the numbers of a key) or a passphrase, even when one was
// given where a path belongs; keys are described by type and size only, e.g.
// "RSA-4096". The values they return print no key material with fmt's %v,
// %+v or %#v either ([Signer] values and [KeyOption] values print a
// summary), with one exception: the standard library's own types that it
// returns (*rsa.PrivateKey, *ecdsa.PrivateKey, *x509.Certificate and the
// like) print their fields as the standard library does. Do not log them.

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/qsjwt/qsjwt/internal/pkcs8"
)

// decryptHint says how to remove a private key's encryption.
const decryptHint = "decrypt it once with `openssl pkey -in enc.pem -out key.pem`"

// KeyOption configures how a private key is read; see [WithPassphrase].
type KeyOption interface{ applyKey(*keyConfig) }

type keyConfig struct {
	passphrase    []byte
	hasPassphrase bool
}

// WithPassphrase gives the passphrase of an encrypted private key (PEM
// "ENCRYPTED PRIVATE KEY" in PKCS #8 PBES2 with AES-CBC, or a legacy
// "Proc-Type: 4,ENCRYPTED" key), or the password of a PFX file for
// [ParsePKCS12]. It is ignored for a key that is not
// encrypted. The option keeps p, not a copy; it prints as
// "qsjwt.WithPassphrase(redacted)".
func WithPassphrase(p []byte) KeyOption { return passphraseOption(p) }

type passphraseOption []byte

func (p passphraseOption) applyKey(c *keyConfig) {
	c.passphrase, c.hasPassphrase = p, true
}

// Format prints the option without the passphrase.
func (passphraseOption) Format(f fmt.State, _ rune) {
	io.WriteString(f, "qsjwt.WithPassphrase(redacted)")
}

// ParsePrivateKey reads a PEM private key: PKCS #8 ("PRIVATE KEY"), PKCS #1
// ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY"), encrypted PKCS #8
// ("ENCRYPTED PRIVATE KEY", PBES2 with PBKDF2 and AES-CBC) or a legacy
// encrypted PKCS #1 key; give the passphrase of an encrypted key with
// [WithPassphrase]. The input may be a bundle that also holds certificates
// and public keys; it must hold exactly one private key. Input from
// environment variables is normalised first: surrounding white space and
// quotes, literal \n escapes and CRLF line ends are fine.
//
// ParsePrivateKey returns the key as the standard library parses it
// (*rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey). It refuses an
// RSA key under [MinRSABits] bits; whether another key type can sign Qlik tokens is
// decided by [SignerFromCrypto]. Errors wrap [ErrKey] and say what is wrong
// (no PEM block, a damaged key, a public key where the private one
// belongs); a key type, PEM type or encryption qsjwt does not read also
// wraps [ErrUnsupportedKey], an encrypted key without a passphrase
// [ErrEncryptedKey], a wrong passphrase [ErrWrongPassphrase]. They never
// contain key material. The returned key prints its numbers with fmt's %v,
// as the standard library's key types do: do not log it.
func ParsePrivateKey(data []byte, opts ...KeyOption) (crypto.Signer, error) {
	var cfg keyConfig
	for _, o := range opts {
		if o != nil {
			o.applyKey(&cfg)
		}
	}
	blocks, err := decodePEM(data, wantPrivate)
	if err != nil {
		return nil, err
	}
	var block *pem.Block
	for _, b := range blocks {
		if pemKindOf(b.Type) != pemPrivate {
			continue
		}
		if block != nil {
			return nil, keyError(nil, "the input holds more than one private key (%s and %s); give exactly one", block.Type, b.Type)
		}
		block = b
	}
	if block == nil {
		return nil, notPrivateKey(blocks)
	}
	der, encrypted, err := decryptPrivateKey(block, cfg)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKeyDER(der)
	switch {
	case errors.Is(err, errMalformedKey) && encrypted:
		return nil, wrongPassphrase(block)
	case err != nil:
		return nil, fmt.Errorf("%w (in the %s block)", err, block.Type)
	}
	if err := checkParsedKey(key.Public()); err != nil {
		return nil, err
	}
	return key, nil
}

// notPrivateKey explains why blocks, which hold no private key, were refused.
func notPrivateKey(blocks []*pem.Block) error {
	for _, b := range blocks {
		switch pemKindOf(b.Type) {
		case pemCertificate:
			return keyError(errNotPrivateKey, "a certificate was given where the private key belongs; give the private key (privatekey.pem), not the certificate (publickey.cer)")
		case pemPublic:
			return keyError(errNotPrivateKey, "a public key (%s) was given where the private key belongs; give the private key (privatekey.pem)", b.Type)
		}
	}
	return keyError(errNoPEM, "no private key block found; expected %s", wantPrivate)
}

// isLegacyEncrypted reports whether b is encrypted as RFC 1423 describes
// (a "Proc-Type: 4,ENCRYPTED" header with DEK-Info).
func isLegacyEncrypted(b *pem.Block) bool {
	_, dek := b.Headers["DEK-Info"]
	return dek || strings.HasSuffix(b.Headers["Proc-Type"], "ENCRYPTED")
}

// decryptPrivateKey returns the DER of a private key block, decrypted with
// cfg's passphrase when the block is encrypted (then encrypted is true).
func decryptPrivateKey(b *pem.Block, cfg keyConfig) (der []byte, encrypted bool, err error) {
	legacy := isLegacyEncrypted(b)
	if !legacy && b.Type != "ENCRYPTED PRIVATE KEY" {
		return b.Bytes, false, nil
	}
	// Refuse what cannot be decrypted before asking for a passphrase.
	scheme := "PKCS #8 PBES2"
	var p8 *pkcs8.Key
	if legacy {
		cipherName, _, _ := strings.Cut(b.Headers["DEK-Info"], ",") // the cipher's name, not the IV
		scheme = strings.TrimSpace("legacy PEM encryption " + cipherName)
	} else if p8, err = pkcs8.Parse(b.Bytes); errors.Is(err, pkcs8.ErrUnsupported) {
		return nil, true, keyError(ErrUnsupportedKey, "the %s block cannot be decrypted: %v; %s, or re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`", b.Type, err, decryptHint)
	} else if err != nil {
		return nil, true, keyError(errMalformedKey, "the %s block is damaged or truncated: %v", b.Type, err)
	}
	if !cfg.hasPassphrase {
		return nil, true, keyError(ErrEncryptedKey, "the %s block is encrypted with %s and no passphrase was given; give it with WithPassphrase, or %s", b.Type, scheme, decryptHint)
	}
	if legacy {
		der, err = x509.DecryptPEMBlock(b, cfg.passphrase) //nolint:staticcheck // legacy keys still exist; reading them is the point
		switch {
		case errors.Is(err, x509.IncorrectPasswordError):
			return nil, true, wrongPassphrase(b)
		case err != nil:
			return nil, true, keyError(ErrUnsupportedKey, "the %s block's encryption header (DEK-Info) is damaged or names a cipher qsjwt cannot decrypt; %s", b.Type, decryptHint)
		}
		return der, true, nil
	}
	der, err = p8.Decrypt(cfg.passphrase)
	switch {
	case errors.Is(err, pkcs8.ErrIncorrectPassphrase):
		return nil, true, wrongPassphrase(b)
	case err != nil:
		return nil, true, keyError(ErrUnsupportedKey, "the %s block cannot be decrypted: %v; %s", b.Type, err, decryptHint)
	}
	return der, true, nil
}

// wrongPassphrase is the one error for a passphrase that does not decrypt b.
func wrongPassphrase(b *pem.Block) error {
	return keyError(ErrWrongPassphrase, "the passphrase given with WithPassphrase does not decrypt the %s block (or the key is damaged); check the passphrase", b.Type)
}

// parsePrivateKeyDER parses an unencrypted private key in any of the forms
// qsjwt reads. The form is found by trying each parser rather than trusting
// the PEM label, so a PKCS #8 key mislabelled "RSA PRIVATE KEY" still reads;
// the forms are distinct DER structures, so no input parses as two.
func parsePrivateKeyDER(der []byte) (crypto.Signer, error) {
	parsers := []func([]byte) (any, error){
		x509.ParsePKCS8PrivateKey,
		func(der []byte) (any, error) { return x509.ParsePKCS1PrivateKey(der) },
		func(der []byte) (any, error) { return x509.ParseECPrivateKey(der) },
	}
	for _, parse := range parsers {
		key, err := parse(der)
		if err != nil {
			continue
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, keyError(ErrUnsupportedKey, "a %T cannot sign; Qlik needs an RSA key of at least %d bits", key, MinRSABits)
		}
		return signer, nil
	}
	if err := badRSAExponent(der); err != nil {
		return nil, err
	}
	if name := unsupportedPrivateKeyType(der); name != "" {
		return nil, unsupportedKeyType(name)
	}
	return nil, keyError(errMalformedKey, "no valid private key (PKCS #8, PKCS #1 or SEC 1): the key is damaged or truncated")
}

// SignerFromPEM reads a PEM private key as [ParsePrivateKey] does and wraps
// it as a [Signer] with [SignerFromCrypto], which refuses a key that cannot
// sign Qlik tokens (not RSA).
func SignerFromPEM(data []byte, opts ...KeyOption) (Signer, error) {
	key, err := ParsePrivateKey(data, opts...)
	if err != nil {
		return nil, err
	}
	return SignerFromCrypto(key)
}

// SignerFromPEMFile reads the private key file at path (at most 1 MiB) and
// returns its [Signer] as [SignerFromPEM] does. Errors name the path, except
// when path is not one but the key itself (PEM text or its base64), a token
// or several lines of text: then they describe it instead of repeating it.
func SignerFromPEMFile(path string, opts ...KeyOption) (Signer, error) {
	data, err := readKeyFile(path, "SignerFromPEM")
	if err != nil {
		return nil, err
	}
	s, err := SignerFromPEM(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return s, nil
}

// maxPathBytes is longer than any file path (PATH_MAX is 4096 on Linux).
const maxPathBytes = 4096

// secretAsPath describes path when it cannot be a file path and may be a
// secret given where the path belongs, so that no error repeats it: PEM
// text, a key's base64, a JWT, JSON (a JWK), several lines or more than
// maxPathBytes. It returns "" for anything that may be a path.
func secretAsPath(path string) string {
	compact := strings.NewReplacer("\\n", "", "\\r", "", "\n", "", "\r", "", " ", "", "\t", "").Replace(path)
	switch {
	case strings.Contains(path, "-----BEGIN") || strings.Contains(path, "-----END") || strings.Contains(path, "PRIVATE KEY"):
		return "PEM key text"
	case len(compact) >= 40 && strings.HasPrefix(compact, "MI") && strings.Trim(compact, base64Chars) == "":
		return "the base64 of a key (PEM text without its -----BEGIN line)"
	case strings.HasPrefix(path, "eyJ") && strings.Count(path, ".") == 2:
		return "a JWT"
	case strings.HasPrefix(strings.TrimSpace(path), "{"):
		return "JSON text (a JSON Web Key?)"
	case strings.ContainsAny(path, "\n\r"):
		return "several lines of text"
	case len(path) > maxPathBytes:
		return fmt.Sprintf("a text of %d bytes", len(path))
	}
	return ""
}

// base64Chars are the characters of standard and URL-safe base64.
const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="

// readKeyFile reads a key or certificate file, at most maxPEMBytes+1 bytes
// of it (decodePEM refuses more), with errors that name the path unless it
// looks like a secret (see secretAsPath). inMemory names the function that
// takes the contents instead of the path, for that error.
func readKeyFile(path, inMemory string) ([]byte, error) {
	if path == "" {
		return nil, keyError(nil, "no key file path given")
	}
	if what := secretAsPath(path); what != "" {
		return nil, keyError(nil, "the path looks like %s, not a file path: give the file's path, or use %s", what, inMemory)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the key file: %w", ErrKey, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, keyError(nil, "%s is a directory; give the path of the key file in it, e.g. %s", path, filepath.Join(path, "privatekey.pem"))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPEMBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the key file: %w", ErrKey, err)
	}
	return data, nil
}

// ParsePublicKey reads the public key that checks tokens from a PEM
// certificate ("CERTIFICATE", the first one of a chain), a PKIX public key
// ("PUBLIC KEY") or a PKCS #1 public key ("RSA PUBLIC KEY"), normalised as
// [ParsePrivateKey] does. It refuses an RSA key under [MinRSABits] bits and any
// input that holds a private key: a private key has no place where only the
// public half is needed. Errors wrap [ErrKey].
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	b, err := publicBlock(data, wantPublic, pemCertificate, pemPublic)
	if err != nil {
		return nil, err
	}
	var pub crypto.PublicKey
	switch b.Type {
	case "CERTIFICATE":
		cert, err := parseCertificateDER(b.Bytes)
		if err != nil {
			return nil, err
		}
		pub = cert.PublicKey
	case "RSA PUBLIC KEY":
		if pub, err = x509.ParsePKCS1PublicKey(b.Bytes); err != nil {
			return nil, keyError(errMalformedKey, "the RSA PUBLIC KEY block is not a valid PKCS #1 public key: it is damaged or truncated")
		}
	default: // PUBLIC KEY
		if pub, err = x509.ParsePKIXPublicKey(b.Bytes); err != nil {
			if name := unsupportedPublicKeyType(b.Bytes); name != "" {
				return nil, unsupportedKeyType(name)
			}
			return nil, keyError(errMalformedKey, "the PUBLIC KEY block is not a public key qsjwt reads: it is damaged, truncated or of an unsupported type")
		}
	}
	if err := checkParsedKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// ParseCertificate reads a PEM certificate ("CERTIFICATE", the first one of a
// chain), normalised as [ParsePrivateKey] does. It refuses a certificate for
// an RSA key under [MinRSABits] bits and any input that holds a private key. Errors
// wrap [ErrKey].
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	b, err := publicBlock(data, wantCertificate, pemCertificate)
	if err != nil {
		return nil, err
	}
	cert, err := parseCertificateDER(b.Bytes)
	if err != nil {
		return nil, err
	}
	if err := checkParsedKey(cert.PublicKey); err != nil {
		return nil, err
	}
	return cert, nil
}

// publicBlock returns the first block of one of kinds in data, refusing an
// input that holds a private key.
func publicBlock(data []byte, want string, kinds ...pemKind) (*pem.Block, error) {
	blocks, err := decodePEM(data, want)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if pemKindOf(b.Type) == pemPrivate {
			return nil, keyError(errNotPublicKey, "private key given where a public key or certificate belongs; give the certificate (publickey.cer) and keep the private key (%s block) secret", b.Type)
		}
	}
	for _, b := range blocks {
		for _, k := range kinds {
			if pemKindOf(b.Type) == k {
				return b, nil
			}
		}
	}
	for _, b := range blocks {
		if pemKindOf(b.Type) == pemPublic {
			return nil, keyError(nil, "a public key (%s) was given where a certificate belongs; give the certificate (publickey.cer)", b.Type)
		}
	}
	return nil, keyError(errNoPEM, "no usable block found; expected %s", want)
}

// parseCertificateDER parses a certificate and refuses one whose public key
// the standard library cannot read.
func parseCertificateDER(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil || cert.PublicKey == nil {
		if name := unsupportedCertificateKeyType(der); name != "" {
			return nil, unsupportedKeyType(name)
		}
	}
	switch {
	case err != nil:
		return nil, keyError(errMalformedKey, "the CERTIFICATE block is not a valid X.509 certificate: it is damaged or truncated")
	case cert.PublicKey == nil:
		return nil, keyError(ErrUnsupportedKey, "the certificate's public key algorithm (%v) is not supported", cert.PublicKeyAlgorithm)
	}
	return cert, nil
}
