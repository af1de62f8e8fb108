// Package pkcs8 decrypts PKCS #8 EncryptedPrivateKeyInfo structures (the
// DER inside a PEM "ENCRYPTED PRIVATE KEY" block) protected with PBES2 (RFC
// 8018): PBKDF2 with HMAC-SHA1, -SHA224, -SHA256, -SHA384 or -SHA512 and
// AES-128, AES-192 or AES-256 in CBC mode. That covers what OpenSSL 1.1 and 3
// write with `openssl pkcs8 -topk8 -v2 aes-256-cbc` and its variants. The
// older PBES1 and PKCS #12 schemes are refused with [ErrUnsupported].
//
// Errors never contain key material: they name schemes, sizes and counts only.
package pkcs8

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// Errors returned by this package; match with errors.Is.
var (
	// ErrMalformed: the structure is not a valid EncryptedPrivateKeyInfo.
	ErrMalformed = errors.New("pkcs8: malformed encrypted private key")
	// ErrUnsupported: the key is encrypted with a scheme this package does
	// not decrypt.
	ErrUnsupported = errors.New("pkcs8: unsupported encryption")
	// ErrIncorrectPassphrase: decryption produced invalid padding.
	ErrIncorrectPassphrase = errors.New("pkcs8: incorrect passphrase")
)

// MaxIterations caps the PBKDF2 iteration count, so that a crafted key cannot
// keep the caller busy: every count 10^7 cost about 3.7 s per parse. The cap
// is above what real tools write (OpenSSL 2048 by default, Java's keytool
// 10,000, Windows 2,000) and equal to OWASP's 2023 advice for
// PBKDF2-HMAC-SHA256, the highest count a current guideline asks for; a key
// at the cap costs about 0.2 s.
const MaxIterations = 600_000

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

// prfOf maps PBKDF2 pseudo-random function OIDs to their hash.
func prfOf(oid string) (func() hash.Hash, bool) {
	switch oid {
	case "1.2.840.113549.2.7":
		return sha1.New, true
	case "1.2.840.113549.2.8":
		return sha256.New224, true
	case "1.2.840.113549.2.9":
		return sha256.New, true
	case "1.2.840.113549.2.10":
		return sha512.New384, true
	case "1.2.840.113549.2.11":
		return sha512.New, true
	}
	return nil, false
}

// cipherKeySize maps AES-CBC OIDs to their key size in bytes.
func cipherKeySize(oid string) (int, bool) {
	switch oid {
	case "2.16.840.1.101.3.4.1.2": // aes128-CBC
		return 16, true
	case "2.16.840.1.101.3.4.1.22": // aes192-CBC
		return 24, true
	case "2.16.840.1.101.3.4.1.42": // aes256-CBC
		return 32, true
	}
	return 0, false
}

// schemeName names encryption schemes that are refused, for the error.
func schemeName(oid string) (string, bool) {
	switch oid {
	case "1.2.840.113549.1.5.1":
		return "PBES1 pbeWithMD2AndDES-CBC", true
	case "1.2.840.113549.1.5.3":
		return "PBES1 pbeWithMD5AndDES-CBC", true
	case "1.2.840.113549.1.5.10":
		return "PBES1 pbeWithSHA1AndDES-CBC", true
	case "1.2.840.113549.1.12.1.1":
		return "PKCS #12 pbeWithSHAAnd128BitRC4", true
	case "1.2.840.113549.1.12.1.2":
		return "PKCS #12 pbeWithSHAAnd40BitRC4", true
	case "1.2.840.113549.1.12.1.3":
		return "PKCS #12 pbeWithSHAAnd3-KeyTripleDES-CBC", true
	case "1.2.840.113549.1.12.1.4":
		return "PKCS #12 pbeWithSHAAnd2-KeyTripleDES-CBC", true
	case "1.2.840.113549.1.12.1.5":
		return "PKCS #12 pbeWithSHAAnd128BitRC2-CBC", true
	case "1.2.840.113549.1.12.1.6":
		return "PKCS #12 pbewithSHAAnd40BitRC2-CBC", true
	case "1.2.840.113549.3.7":
		return "DES-EDE3-CBC", true
	case "1.3.14.3.2.7":
		return "DES-CBC", true
	case "1.2.840.113549.3.2":
		return "RC2-CBC", true
	case "1.2.840.113549.2.5":
		return "HMAC-MD5", true
	}
	return "", false
}

func name(oid asn1.ObjectIdentifier) string {
	if n, ok := schemeName(oid.String()); ok {
		return n + " (" + oid.String() + ")"
	}
	return oid.String()
}

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// Key is a parsed, still encrypted private key.
type Key struct {
	salt       []byte
	iterations int
	prf        func() hash.Hash
	keyLen     int
	iv         []byte
	data       []byte
}

// Format prints a summary, never the encrypted data.
func (k *Key) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "pkcs8.Key(PBES2, PBKDF2 %d iterations, AES-%d-CBC)", k.iterations, k.keyLen*8)
}

// unmarshal parses der into v and refuses trailing data.
func unmarshal(der []byte, v any, what string) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return fmt.Errorf("%w: the %s cannot be parsed", ErrMalformed, what)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: trailing data after the %s", ErrMalformed, what)
	}
	return nil
}

// Parse reads a DER EncryptedPrivateKeyInfo and checks that its scheme is
// one this package decrypts, without needing the passphrase.
func Parse(der []byte) (*Key, error) {
	var info encryptedPrivateKeyInfo
	if err := unmarshal(der, &info, "EncryptedPrivateKeyInfo"); err != nil {
		return nil, err
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, name(info.Algorithm.Algorithm))
	}
	var params pbes2Params
	if err := unmarshal(info.Algorithm.Parameters.FullBytes, &params, "PBES2 parameters"); err != nil {
		return nil, err
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("%w: key derivation %s (only PBKDF2 is supported)", ErrUnsupported, name(params.KeyDerivationFunc.Algorithm))
	}
	keyLen, ok := cipherKeySize(params.EncryptionScheme.Algorithm.String())
	if !ok {
		return nil, fmt.Errorf("%w: cipher %s (only AES-128/192/256-CBC are supported)", ErrUnsupported, name(params.EncryptionScheme.Algorithm))
	}
	var kdf pbkdf2Params
	if err := unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf, "PBKDF2 parameters"); err != nil {
		return nil, err
	}
	prf := sha1.New // RFC 8018: the default PRF is hmacWithSHA1
	if len(kdf.PRF.Algorithm) > 0 {
		if prf, ok = prfOf(kdf.PRF.Algorithm.String()); !ok {
			return nil, fmt.Errorf("%w: PBKDF2 PRF %s (only HMAC-SHA1/224/256/384/512 are supported)", ErrUnsupported, name(kdf.PRF.Algorithm))
		}
	}
	switch {
	case len(kdf.Salt) == 0:
		return nil, fmt.Errorf("%w: the PBKDF2 salt is empty", ErrMalformed)
	case kdf.Iterations < 1:
		return nil, fmt.Errorf("%w: the PBKDF2 iteration count is %d", ErrMalformed, kdf.Iterations)
	case kdf.Iterations > MaxIterations:
		return nil, fmt.Errorf("%w: the PBKDF2 iteration count %d is over qsjwt's limit of %d (real tools write 2048 to 600,000)", ErrUnsupported, kdf.Iterations, MaxIterations)
	case kdf.KeyLength != 0 && kdf.KeyLength != keyLen:
		return nil, fmt.Errorf("%w: the PBKDF2 key length %d does not fit AES-%d", ErrMalformed, kdf.KeyLength, keyLen*8)
	}
	var iv []byte
	if err := unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv, "AES-CBC parameters"); err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("%w: the AES-CBC IV has %d bytes, not %d", ErrMalformed, len(iv), aes.BlockSize)
	}
	if len(info.EncryptedData) == 0 || len(info.EncryptedData)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: the encrypted data has %d bytes, not a positive multiple of %d (truncated?)", ErrMalformed, len(info.EncryptedData), aes.BlockSize)
	}
	return &Key{salt: kdf.Salt, iterations: kdf.Iterations, prf: prf, keyLen: keyLen, iv: iv, data: info.EncryptedData}, nil
}

// Decrypt returns the DER PrivateKeyInfo (unencrypted PKCS #8). A wrong
// passphrase is reported as [ErrIncorrectPassphrase] when the padding shows
// it; CBC padding is only a weak check, so a caller must also treat a
// plaintext that does not parse as a wrong passphrase.
func (k *Key) Decrypt(passphrase []byte) ([]byte, error) {
	dk, err := pbkdf2.Key(k.prf, string(passphrase), k.salt, k.iterations, k.keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: PBKDF2: %w", ErrUnsupported, err)
	}
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, fmt.Errorf("%w: AES: %w", ErrUnsupported, err)
	}
	out := make([]byte, len(k.data))
	cipher.NewCBCDecrypter(block, k.iv).CryptBlocks(out, k.data)
	n := int(out[len(out)-1])
	if n == 0 || n > aes.BlockSize {
		return nil, ErrIncorrectPassphrase
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, ErrIncorrectPassphrase
		}
	}
	return out[:len(out)-n], nil
}
