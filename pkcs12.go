package qsjwt

// This file reads PFX (PKCS #12) files, the form in which the Qlik
// Management Console and Windows export a certificate with its key.

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"

	"github.com/qsjwt/qsjwt/internal/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// ParsePKCS12 reads a PFX (PKCS #12) file: the private key and the
// certificate for it, as the QMC, Windows (certmgr, Export-PfxCertificate)
// and `openssl pkcs12 -export` write them, both legacy files (3DES and RC2,
// SHA-1 MAC) and modern ones (PBES2 with AES-256, SHA-256 MAC). data is
// the file's bytes, or their base64 (as key vaults export it). Give the
// file's password with [WithPassphrase]; without it the empty password is
// tried, which files exported without a password use.
//
// It returns the key as the standard library parses it (*rsa.PrivateKey
// for a key Qlik accepts) and its certificate; other certificates in the
// file (a chain) are ignored. It refuses an RSA key under [MinRSABits]
// bits, a certificate that is not for the key, and a file whose PBKDF2 or
// MAC iteration count is over 600,000. Errors wrap [ErrKey] and, where one
// fits, [ErrEncryptedKey], [ErrWrongPassphrase] or [ErrUnsupportedKey];
// they never contain key material or the password. The returned key prints
// its numbers with fmt's %v: do not log it.
func ParsePKCS12(data []byte, opts ...KeyOption) (crypto.Signer, *x509.Certificate, error) {
	var cfg keyConfig
	for _, o := range opts {
		if o != nil {
			o.applyKey(&cfg)
		}
	}
	der, err := pfxDER(data)
	if err != nil {
		return nil, nil, err
	}
	if n := maxIterations(der, 0); n > pkcs8.MaxIterations {
		return nil, nil, keyError(ErrUnsupportedKey, "the PFX's iteration count %d is over qsjwt's limit of %d (real tools write 2048 to 600,000); export it again, e.g. `openssl pkcs12 -export -iter 2048`", n, pkcs8.MaxIterations)
	}
	key, cert, _, err := pkcs12.DecodeChain(der, string(cfg.passphrase))
	var notImplemented pkcs12.NotImplementedError
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword) && !cfg.hasPassphrase:
		return nil, nil, keyError(ErrEncryptedKey, "the PFX is protected by a password and none was given; give it with WithPassphrase")
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return nil, nil, keyError(ErrWrongPassphrase, "the password given with WithPassphrase does not open the PFX (or the file is damaged); check the password")
	case errors.As(err, &notImplemented):
		return nil, nil, keyError(ErrUnsupportedKey, "the PFX cannot be read: %s; export it again with `openssl pkcs12 -export` from the key and certificate in PEM form", notImplemented.Error())
	case err != nil:
		return nil, nil, keyError(errMalformedKey, "the PFX is damaged, truncated or holds no private key with its certificate; export it again, with its private key")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, keyError(ErrUnsupportedKey, "the PFX's key (%T) cannot sign; Qlik needs an RSA key of at least %d bits", key, MinRSABits)
	}
	if err := checkParsedKey(signer.Public()); err != nil {
		return nil, nil, err
	}
	if eq, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return nil, nil, keyError(nil, "the PFX's certificate (%s) is not for its key (%s)", describeKey(cert.PublicKey), describeKey(signer.Public()))
	}
	return signer, cert, nil
}

// pfxDER returns the DER of a PFX given as bytes or as base64, refusing an
// input over maxPEMBytes and PEM text (with a pointer to the PEM readers).
func pfxDER(data []byte) ([]byte, error) {
	const want = "a PFX (PKCS #12) file, e.g. exported from the QMC"
	switch trimmed := bytes.TrimSpace(data); {
	case len(data) > maxPEMBytes:
		return nil, keyError(nil, "the input is larger than %d bytes (1 MiB); expected %s, which is a few KiB", maxPEMBytes, want)
	case len(trimmed) == 0:
		return nil, keyError(errNoPEM, "the input is empty; expected %s", want)
	case bytes.Contains(trimmed, []byte("-----BEGIN ")):
		return nil, keyError(nil, "the input is PEM text, not a PFX; read it with ParsePrivateKey and ParseCertificate (or SignerFromPEM)")
	case trimmed[0] == 0x30:
		return data, nil
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(data), nil)))
	if err != nil || len(der) == 0 || der[0] != 0x30 {
		return nil, keyError(errMalformedKey, "the input is neither a PFX file nor its base64; expected %s", want)
	}
	return der, nil
}

// maxIterations returns the largest iteration count in the unencrypted
// parts of a PFX, so that a crafted file cannot keep the caller busy for
// hours before its password is even checked: every INTEGER that follows an
// OCTET STRING (a salt) in a SEQUENCE, as in PBEParameter, PBKDF2-params and
// MacData. It looks into OCTET STRINGs that hold DER, down to a fixed depth.
func maxIterations(der []byte, depth int) int64 {
	if depth > 16 {
		return 0
	}
	var most int64
	for len(der) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(der, &v)
		if err != nil {
			return most
		}
		der = rest
		switch {
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString:
			most = max(most, maxIterations(v.Bytes, depth+1))
		case v.IsCompound:
			most = max(most, maxIterations(v.Bytes, depth+1))
			if v.Tag == asn1.TagSequence {
				most = max(most, countAfterSalt(v.Bytes))
			}
		}
	}
	return most
}

// countAfterSalt returns the INTEGER that follows an OCTET STRING among the
// elements of a SEQUENCE, or 0.
func countAfterSalt(elements []byte) int64 {
	var afterSalt bool
	for len(elements) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(elements, &v)
		if err != nil {
			return 0
		}
		elements = rest
		if afterSalt && v.Class == asn1.ClassUniversal && v.Tag == asn1.TagInteger {
			var n int64
			if _, err := asn1.Unmarshal(v.FullBytes, &n); err != nil {
				return 1 << 62 // longer than 64 bits
			}
			return n
		}
		afterSalt = v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString
	}
	return 0
}
