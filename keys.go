package qsjwt

// This file reads, makes, encodes and writes the keys and certificates qsjwt
// signs with.
//
// Redaction: no error from this file contains key material (PEM, base64,
// DER or the numbers of a key); keys are described by type and size only,
// e.g. "RSA-4096". The values it returns print no key material with fmt's
// %v, %+v or %#v either ([Signer] values and [KeyOption] values print a
// summary), with one exception: the standard library's own types that it
// returns (*rsa.PrivateKey, *ecdsa.PrivateKey, *x509.Certificate and the
// like) print their fields as the standard library does. Do not log them.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/pkcs8"
)

// MinRSABits is the smallest RSA modulus qsjwt accepts.
const MinRSABits = 2048

// checkPublicKey is the one place that decides whether a public key may sign
// Qlik tokens at all: RSA of at least MinRSABits bits.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: the RSA public key is empty", ErrKey)
		}
		if bits := k.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("%w: RSA key has %d bits; Qlik needs at least %d (make a new one with `qs-jwt keygen` or `openssl genrsa 4096`)", ErrKey, bits, MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		return fmt.Errorf("%w: an ECDSA key (%s) cannot make the RS256/RS384/RS512 signatures Qlik checks; use an RSA key of at least %d bits", ErrKey, describeKey(pub), MinRSABits)
	case nil:
		return fmt.Errorf("%w: the signer has no public key", ErrKey)
	default:
		return fmt.Errorf("%w: key type %T is not supported; Qlik needs an RSA key of at least %d bits", ErrKey, pub, MinRSABits)
	}
}

// describeKey names a key's type and size, never its material.
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "RSA (empty)"
		}
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "ECDSA (empty)"
		}
		return "ECDSA " + k.Curve.Params().Name
	case nil:
		return "no key"
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// Errors about keys. Each error they describe also wraps [ErrKey], so
// errors.Is(err, ErrKey) holds for every key error.
var (
	// ErrNoPEM: the input holds no PEM block of the kind asked for.
	ErrNoPEM = fmt.Errorf("%w: no PEM block", ErrKey)
	// ErrMalformedKey: a PEM block or the key inside it is damaged or
	// truncated.
	ErrMalformedKey = fmt.Errorf("%w: malformed key", ErrKey)
	// ErrUnsupportedKey: a PEM block type, key type or encryption scheme
	// qsjwt does not read.
	ErrUnsupportedKey = fmt.Errorf("%w: unsupported key", ErrKey)
	// ErrEncryptedKey: the private key is encrypted and no passphrase was
	// given; give one with [WithPassphrase].
	ErrEncryptedKey = fmt.Errorf("%w: encrypted key", ErrKey)
	// ErrWrongPassphrase: the passphrase does not decrypt the private key.
	ErrWrongPassphrase = fmt.Errorf("%w: wrong passphrase", ErrKey)
	// ErrNotPrivateKey: a public key or certificate was given where a
	// private key belongs.
	ErrNotPrivateKey = fmt.Errorf("%w: not a private key", ErrKey)
	// ErrNotPublicKey: a private key was given where a public key or
	// certificate belongs.
	ErrNotPublicKey = fmt.Errorf("%w: not a public key", ErrKey)
)

// keyError returns an error wrapping kind (which wraps ErrKey), or ErrKey
// when kind is nil. The message must name the problem without key material.
func keyError(kind error, format string, args ...any) error {
	if kind == nil {
		kind = ErrKey
	}
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// maxPEMBytes caps the input of every parser and key file read: a key or a
// certificate is a few KiB.
const maxPEMBytes = 1 << 20

// decryptHint says how to remove a private key's encryption.
const decryptHint = "decrypt it once with `openssl pkey -in enc.pem -out key.pem`"

// What each parser expects, for its errors.
const (
	wantPrivate     = "a private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)"
	wantPublic      = "a certificate (-----BEGIN CERTIFICATE-----, e.g. publickey.cer) or a public key (PUBLIC KEY or RSA PUBLIC KEY)"
	wantCertificate = "a certificate (-----BEGIN CERTIFICATE-----, e.g. publickey.cer)"
)

// pemKind sorts PEM block types.
type pemKind int

const (
	pemUnknown pemKind = iota
	pemPrivate
	pemPublic
	pemCertificate
	pemIgnored
)

// pemKinds lists the PEM block types qsjwt reads; any other type is refused.
var pemKinds = map[string]pemKind{
	"PRIVATE KEY":           pemPrivate, // PKCS #8
	"RSA PRIVATE KEY":       pemPrivate, // PKCS #1
	"EC PRIVATE KEY":        pemPrivate, // SEC 1
	"ENCRYPTED PRIVATE KEY": pemPrivate, // PKCS #8 PBES2
	"PUBLIC KEY":            pemPublic,  // PKIX
	"RSA PUBLIC KEY":        pemPublic,  // PKCS #1
	"CERTIFICATE":           pemCertificate,
	"EC PARAMETERS":         pemIgnored, // `openssl ecparam -genkey` writes it before the key
}

// pemHints says how to convert block types that are refused but common.
var pemHints = map[string]string{
	"OPENSSH PRIVATE KEY": "; convert it to PKCS #8 with `ssh-keygen -p -m PKCS8 -f <file>`",
	"CERTIFICATE REQUEST": "; a certificate request is not a certificate, make one with `openssl req -x509`",
}

// normalisePEM undoes what environment variables, .env files and copy and
// paste do to a PEM text: a UTF-8 byte order mark, surrounding white space
// and quotes, literal \n escapes, CRLF or CR line ends and indented lines.
// PEM text holds no backslash or quote, so none of this changes a good
// input.
func normalisePEM(data []byte) []byte {
	data = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\ufeff")))
	if n := len(data); n >= 2 && (data[0] == '"' || data[0] == '\'') && data[n-1] == data[0] {
		data = data[1 : n-1]
	}
	for _, r := range [...][2]string{{`\r\n`, "\n"}, {`\n`, "\n"}, {"\r\n", "\n"}, {"\r", "\n"}} {
		data = bytes.ReplaceAll(data, []byte(r[0]), []byte(r[1]))
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSpace(l)
	}
	return bytes.Join(lines, []byte("\n"))
}

// decodePEM normalises data and returns its PEM blocks, refusing an input
// over maxPEMBytes, one without PEM blocks, a damaged block and a block type
// qsjwt does not read. want names what the caller expects, for the errors.
func decodePEM(data []byte, want string) ([]*pem.Block, error) {
	if len(data) > maxPEMBytes {
		return nil, keyError(nil, "the input is larger than %d bytes (1 MiB); expected %s, which is a few KiB", maxPEMBytes, want)
	}
	data = normalisePEM(data)
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	switch {
	case bytes.Count(data, []byte("-----BEGIN ")) > len(blocks):
		return nil, keyError(ErrMalformedKey, "a PEM block is damaged: a -----BEGIN line without its -----END line, or bad base64 between them; expected %s", want)
	case len(blocks) == 0 && len(data) == 0:
		return nil, keyError(ErrNoPEM, "the input is empty; expected %s", want)
	case len(blocks) == 0 && len(data) > 1 && data[0] == 0x30 && data[1] >= 0x80:
		return nil, keyError(ErrNoPEM, "the input looks like binary DER; expected %s in PEM form (convert with `openssl pkey -inform DER` or `openssl x509 -inform DER`)", want)
	case len(blocks) == 0 && bytes.HasPrefix(data, []byte("MII")):
		return nil, keyError(ErrNoPEM, "the input looks like base64 without its -----BEGIN and -----END lines; expected %s with them", want)
	case len(blocks) == 0:
		return nil, keyError(ErrNoPEM, "no -----BEGIN ...----- line found; expected %s", want)
	}
	for _, b := range blocks {
		if pemKinds[b.Type] == pemUnknown {
			return nil, keyError(ErrUnsupportedKey, "a %q PEM block cannot be read; expected %s%s", b.Type, want, pemHints[b.Type])
		}
	}
	return blocks, nil
}

// checkParsedKey applies, to a key just parsed, the rules that hold for
// every key qsjwt reads: an RSA key must pass checkPublicKey. Other types
// are left for the caller to judge.
func checkParsedKey(pub crypto.PublicKey) error {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return checkPublicKey(pub)
	}
	return nil
}

// KeyOption configures how a private key is read; see [WithPassphrase].
type KeyOption interface{ applyKey(*keyConfig) }

type keyConfig struct {
	passphrase    []byte
	hasPassphrase bool
}

// WithPassphrase gives the passphrase of an encrypted private key (PEM
// "ENCRYPTED PRIVATE KEY" in PKCS #8 PBES2 with AES-CBC, or a legacy
// "Proc-Type: 4,ENCRYPTED" key). It is ignored for a key that is not
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
// RSA key under [MinRSABits] bits; whether another key type can sign Qlik
// tokens is decided by [SignerFromCrypto]. Errors wrap [ErrKey] and, where
// one fits, [ErrNoPEM], [ErrMalformedKey], [ErrUnsupportedKey],
// [ErrEncryptedKey], [ErrWrongPassphrase] or [ErrNotPrivateKey]; they never
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
		if pemKinds[b.Type] != pemPrivate {
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
	case errors.Is(err, ErrMalformedKey) && encrypted:
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
		switch pemKinds[b.Type] {
		case pemCertificate:
			return keyError(ErrNotPrivateKey, "a certificate was given where the private key belongs; give the private key (privatekey.pem), not the certificate (publickey.cer)")
		case pemPublic:
			return keyError(ErrNotPrivateKey, "a public key (%s) was given where the private key belongs; give the private key (privatekey.pem)", b.Type)
		}
	}
	return keyError(ErrNoPEM, "no private key block found; expected %s", wantPrivate)
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
		return nil, true, keyError(ErrMalformedKey, "the %s block is damaged or truncated: %v", b.Type, err)
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
	return nil, keyError(ErrMalformedKey, "no valid private key (PKCS #8, PKCS #1 or SEC 1): the key is damaged or truncated")
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
// returns its [Signer] as [SignerFromPEM] does. Errors name the path.
func SignerFromPEMFile(path string, opts ...KeyOption) (Signer, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	s, err := SignerFromPEM(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return s, nil
}

// readKeyFile reads a key or certificate file, at most maxPEMBytes+1 bytes
// of it (decodePEM refuses more), with errors that name the path.
func readKeyFile(path string) ([]byte, error) {
	if path == "" {
		return nil, keyError(nil, "no key file path given")
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
// [ParsePrivateKey] does. It refuses an RSA key under [MinRSABits] bits and
// any input that holds a private key, with [ErrNotPublicKey]: a private key
// has no place where only the public half is needed.
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
			return nil, keyError(ErrMalformedKey, "the RSA PUBLIC KEY block is not a valid PKCS #1 public key: it is damaged or truncated")
		}
	default: // PUBLIC KEY
		if pub, err = x509.ParsePKIXPublicKey(b.Bytes); err != nil {
			return nil, keyError(ErrMalformedKey, "the PUBLIC KEY block is not a public key qsjwt reads: it is damaged, truncated or of an unsupported type")
		}
	}
	if err := checkParsedKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// ParseCertificate reads a PEM certificate ("CERTIFICATE", the first one of a
// chain), normalised as [ParsePrivateKey] does. It refuses a certificate for
// an RSA key under [MinRSABits] bits and any input that holds a private key,
// with [ErrNotPublicKey].
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
		if pemKinds[b.Type] == pemPrivate {
			return nil, keyError(ErrNotPublicKey, "private key given where a public key or certificate belongs; give the certificate (publickey.cer) and keep the private key (%s block) secret", b.Type)
		}
	}
	for _, b := range blocks {
		for _, k := range kinds {
			if pemKinds[b.Type] == k {
				return b, nil
			}
		}
	}
	for _, b := range blocks {
		if pemKinds[b.Type] == pemPublic {
			return nil, keyError(nil, "a public key (%s) was given where a certificate belongs; give the certificate (publickey.cer)", b.Type)
		}
	}
	return nil, keyError(ErrNoPEM, "no usable block found; expected %s", want)
}

// parseCertificateDER parses a certificate and refuses one whose public key
// the standard library cannot read.
func parseCertificateDER(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, keyError(ErrMalformedKey, "the CERTIFICATE block is not a valid X.509 certificate: it is damaged or truncated")
	}
	if cert.PublicKey == nil {
		return nil, keyError(ErrUnsupportedKey, "the certificate's public key algorithm (%v) is not supported", cert.PublicKeyAlgorithm)
	}
	return cert, nil
}

// KeyType is a kind of key [GenerateKey] makes.
type KeyType int

// The key types [GenerateKey] makes. Qlik signs with RSA only; ECDSAP256 is
// for other uses of the same tooling. Qlik's own tutorial uses RSA4096.
const (
	RSA2048 KeyType = iota + 1
	RSA3072
	RSA4096
	ECDSAP256
)

// rsaBits gives the modulus size of each RSA key type.
var rsaBits = map[KeyType]int{RSA2048: 2048, RSA3072: 3072, RSA4096: 4096}

// String returns "RSA-2048", "RSA-3072", "RSA-4096" or "ECDSA-P256".
func (t KeyType) String() string {
	if bits, ok := rsaBits[t]; ok {
		return fmt.Sprintf("RSA-%d", bits)
	}
	if t == ECDSAP256 {
		return "ECDSA-P256"
	}
	return fmt.Sprintf("KeyType(%d)", int(t))
}

// GenerateKey makes a new key of type t from crypto/rand. The key is the
// standard library's type (*rsa.PrivateKey or *ecdsa.PrivateKey), which
// prints its numbers with fmt's %v: do not log it.
func GenerateKey(t KeyType) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch bits, isRSA := rsaBits[t]; {
	case isRSA:
		key, err = rsa.GenerateKey(rand.Reader, bits)
	case t == ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, keyError(ErrUnsupportedKey, "unknown key type %v; use RSA2048, RSA3072, RSA4096 or ECDSAP256", t)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: generating a %v key: %w", ErrKey, t, err)
	}
	return key, nil
}

// Defaults of [SelfSignedCertificate], as in Qlik's tutorial
// (`openssl req -x509 -days 1825`).
const (
	DefaultCommonName = "qs-jwt"
	DefaultValidity   = 1825 * 24 * time.Hour
)

// CertificateOption configures [SelfSignedCertificate].
type CertificateOption interface{ applyCert(*certConfig) }

type certConfig struct {
	commonName string
	validity   time.Duration
	now        func() time.Time
}

type commonNameOption string

func (o commonNameOption) applyCert(c *certConfig) { c.commonName = string(o) }

type validityOption time.Duration

func (o validityOption) applyCert(c *certConfig) { c.validity = time.Duration(o) }

type certClockOption func() time.Time

func (o certClockOption) applyCert(c *certConfig) { c.now = o }

// WithCommonName sets the certificate's subject and issuer common name
// (default [DefaultCommonName]); it must not be empty and has at most 64
// characters.
func WithCommonName(cn string) CertificateOption { return commonNameOption(cn) }

// WithValidity sets how long the certificate is valid from now (default
// [DefaultValidity], 1825 days); it must be positive.
func WithValidity(d time.Duration) CertificateOption { return validityOption(d) }

// WithCertificateClock sets the clock the certificate's validity starts from
// (default time.Now); NotBefore is one minute before it, for clock skew.
func WithCertificateClock(now func() time.Time) CertificateOption { return certClockOption(now) }

// SelfSignedCertificate makes a self-signed certificate for key, the
// publickey.cer that Qlik is given to check tokens: signed with SHA-256
// (SHA256WithRSA or ECDSAWithSHA256), with a random positive 128-bit serial,
// valid from a minute ago for [DefaultValidity] unless options say otherwise.
// It refuses an RSA key under [MinRSABits] bits and reports every invalid
// option at once, each as an [*OptionError] (matching [ErrInvalidOption])
// wrapped with [ErrKey].
func SelfSignedCertificate(key crypto.Signer, opts ...CertificateOption) (*x509.Certificate, error) {
	cfg := certConfig{commonName: DefaultCommonName, validity: DefaultValidity, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.applyCert(&cfg)
		}
	}
	var errs []error
	optionError := func(option, reason string) {
		errs = append(errs, fmt.Errorf("%w: %w", ErrKey, &OptionError{Option: option, Reason: reason}))
	}
	if strings.TrimSpace(cfg.commonName) == "" {
		optionError("WithCommonName", "the common name is empty")
	} else if n := len([]rune(cfg.commonName)); n > 64 {
		optionError("WithCommonName", fmt.Sprintf("the common name has %d characters; X.509 allows at most 64", n))
	}
	if cfg.validity <= 0 {
		optionError("WithValidity", fmt.Sprintf("the validity %v is not positive", cfg.validity))
	}
	if cfg.now == nil {
		optionError("WithCertificateClock", "the clock is nil")
	}
	if key == nil {
		errs = append(errs, keyError(nil, "no key given to SelfSignedCertificate"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	var alg x509.SignatureAlgorithm
	switch key.Public().(type) {
	case *rsa.PublicKey:
		alg = x509.SHA256WithRSA
	case *ecdsa.PublicKey:
		alg = x509.ECDSAWithSHA256
	default:
		return nil, keyError(ErrUnsupportedKey, "cannot make a SHA-256 signed certificate with a %s key; use RSA or ECDSA", describeKey(key.Public()))
	}
	if err := checkParsedKey(key.Public()); err != nil {
		return nil, err
	}
	// A serial in [1, 2^128-1]: random, positive and at most 17 DER bytes.
	serial, err := rand.Int(rand.Reader, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)))
	if err != nil {
		return nil, fmt.Errorf("%w: making a serial number: %w", ErrKey, err)
	}
	serial.Add(serial, big.NewInt(1))
	now := cfg.now()
	name := pkix.Name{CommonName: cfg.commonName}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(cfg.validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("%w: making the certificate with the %s key: %w", ErrKey, describeKey(key.Public()), err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: reading back the new certificate: %w", ErrKey, err)
	}
	return cert, nil
}

// PrivateKeyPEM encodes a private key in memory (RSA, ECDSA or Ed25519) as a
// PKCS #8 PEM block ("PRIVATE KEY"). A key held by an HSM or a KMS cannot be
// exported and is refused.
func PrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, keyError(nil, "no private key given")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, keyError(ErrUnsupportedKey, "a %s private key held as %T cannot be written as PKCS #8; only keys in memory (RSA, ECDSA, Ed25519) can", describeKey(key.Public()), key)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicKeyPEM encodes a public key as a PKIX PEM block ("PUBLIC KEY").
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	if pub == nil {
		return nil, keyError(nil, "no public key given")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, keyError(ErrUnsupportedKey, "a %s public key cannot be written as PKIX", describeKey(pub))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// CertificatePEM encodes a certificate as a PEM block ("CERTIFICATE"), the
// form of publickey.cer. It returns nil for a nil certificate.
func CertificatePEM(cert *x509.Certificate) []byte {
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an RSA key or an ECDSA
// key on P-256, P-384 or P-521: the SHA-256 of the key's required JWK
// members in lexicographic order, base64url-encoded without padding. It
// suits a "kid" that names the key without revealing anything about it.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var jwk string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.E <= 0 {
			return "", keyError(nil, "the RSA public key is empty")
		}
		jwk = `{"e":"` + b64(big.NewInt(int64(k.E)).Bytes()) + `","kty":"RSA","n":"` + b64(k.N.Bytes()) + `"}`
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "", keyError(nil, "the ECDSA public key is empty")
		}
		crv := k.Curve.Params().Name
		point, err := k.Bytes() // 0x04 || X || Y, each coordinate padded to the field size
		if err != nil || (crv != "P-256" && crv != "P-384" && crv != "P-521") {
			return "", keyError(ErrUnsupportedKey, "no JWK thumbprint for an %s key; use P-256, P-384 or P-521", describeKey(pub))
		}
		n := (len(point) - 1) / 2
		jwk = `{"crv":"` + crv + `","kty":"EC","x":"` + b64(point[1:1+n]) + `","y":"` + b64(point[1+n:]) + `"}`
	default:
		return "", keyError(ErrUnsupportedKey, "no JWK thumbprint for a %s key; use RSA or ECDSA", describeKey(pub))
	}
	sum := sha256.Sum256([]byte(jwk))
	return b64(sum[:]), nil
}

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
