package qsjwt

// This file makes keys and certificates and encodes them.

import (
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
	"math/big"
	"strings"
	"time"
)

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

// rsaBits gives the modulus size of an RSA key type, and false for another.
func rsaBits(t KeyType) (int, bool) {
	switch t {
	case RSA2048:
		return 2048, true
	case RSA3072:
		return 3072, true
	case RSA4096:
		return 4096, true
	}
	return 0, false
}

// String returns "RSA-2048", "RSA-3072", "RSA-4096" or "ECDSA-P256".
func (t KeyType) String() string {
	if bits, ok := rsaBits(t); ok {
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
	switch bits, isRSA := rsaBits(t); {
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
	defaultCommonName = "qs-jwt"
	defaultValidity   = 1825 * 24 * time.Hour
)

// CertificateOption configures [SelfSignedCertificate].
type CertificateOption interface{ applyCert(*certConfig) }

type certConfig struct {
	commonName string
	validity   time.Duration
	now        func() time.Time // time.Now; tests set it (export_test.go)
}

type commonNameOption string

func (o commonNameOption) applyCert(c *certConfig) { c.commonName = string(o) }

type validityOption time.Duration

func (o validityOption) applyCert(c *certConfig) { c.validity = time.Duration(o) }

// WithCommonName sets the certificate's subject and issuer common name
// (default "qs-jwt"); it must not be empty and has at most 64
// characters.
func WithCommonName(cn string) CertificateOption { return commonNameOption(cn) }

// WithValidity sets how long the certificate is valid from now (default
// 1825 days, as Qlik's tutorial's `openssl req -x509 -days 1825`); it must be positive.
func WithValidity(d time.Duration) CertificateOption { return validityOption(d) }

// SelfSignedCertificate makes a self-signed certificate for key, the
// publickey.cer that Qlik is given to check tokens: signed with SHA-256
// (SHA256WithRSA or ECDSAWithSHA256), with a random positive 128-bit serial,
// valid from a minute ago for 1825 days unless options say otherwise.
// It refuses an RSA key under [MinRSABits] bits and reports every invalid option at
// once, each as an [*OptionError] wrapped with [ErrKey].
func SelfSignedCertificate(key crypto.Signer, opts ...CertificateOption) (*x509.Certificate, error) {
	cfg := certConfig{commonName: defaultCommonName, validity: defaultValidity, now: time.Now}
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

// privateKeyPEM encodes a private key in memory (RSA, ECDSA or Ed25519) as a
// PKCS #8 PEM block ("PRIVATE KEY"). A key held by an HSM or a KMS cannot be
// exported and is refused.
func privateKeyPEM(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, keyError(nil, "no private key given")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, keyError(ErrUnsupportedKey, "a %s private key held as %T cannot be written as PKCS #8; only keys in memory (RSA, ECDSA, Ed25519) can", describeKey(key.Public()), key)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// publicKeyPEM encodes a public key as a PKIX PEM block ("PUBLIC KEY").
func publicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
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
