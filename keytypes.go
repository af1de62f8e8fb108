package qsjwt

// This file names the key types qsjwt cannot read, so that a valid key of
// such a type is reported as unsupported rather than damaged.

import (
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
)

// algorithmNameOf names the key algorithms and curves (by OID) that real
// tools write and the standard library does not read, and returns false
// for others.
func algorithmNameOf(oid string) (string, bool) {
	switch oid {
	case "1.2.840.113549.1.1.10":
		return "RSA-PSS (an RSA key restricted to PSS signatures)", true
	case "1.3.101.110":
		return "X25519", true
	case "1.3.101.111":
		return "X448", true
	case "1.3.101.113":
		return "Ed448", true
	case "1.2.840.10040.4.1":
		return "DSA", true
	case "1.2.840.113549.1.3.1":
		return "Diffie-Hellman", true
	case "1.2.840.10046.2.1":
		return "Diffie-Hellman (X9.42)", true
	case "1.3.132.0.10":
		return "ECDSA secp256k1", true
	case "1.2.156.10197.1.301":
		return "SM2", true
	case "1.3.36.3.3.2.8.1.1.7":
		return "ECDSA brainpoolP256r1", true
	case "1.3.36.3.3.2.8.1.1.11":
		return "ECDSA brainpoolP384r1", true
	case "1.3.36.3.3.2.8.1.1.13":
		return "ECDSA brainpoolP512r1", true
	case "1.3.132.0.33":
		return "ECDSA P-224", true
	}
	return "", false
}

// unsupportedKeyType is the one error for a valid key of a type qsjwt does
// not read; name comes from algorithmName.
func unsupportedKeyType(name string) error {
	return keyError(ErrUnsupportedKey, "unsupported key type: %s; qsjwt reads RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys, and Qlik needs RSA of at least %d bits (make one with `qs-jwt keygen` or `openssl genrsa 4096`)", name, MinRSABits)
}

// oidECPublicKey is id-ecPublicKey; its parameter names the curve.
var oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

// supported reports whether the standard library reads the key algorithm
// or curve of an OID: a key of one of them that does not parse is damaged,
// not unsupported.
func supported(oid string) bool {
	switch oid {
	case "1.2.840.113549.1.1.1", // rsaEncryption
		"1.3.101.112",         // Ed25519
		"1.2.840.10045.3.1.7", // P-256
		"1.3.132.0.34",        // P-384
		"1.3.132.0.35":        // P-521
		return true
	}
	return false
}

// algorithmName names the key type an AlgorithmIdentifier describes, or
// returns "" for a type the standard library reads.
func algorithmName(a pkix.AlgorithmIdentifier) string {
	if a.Algorithm.Equal(oidECPublicKey) {
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(a.Parameters.FullBytes, &curve); err != nil {
			return "ECDSA with explicit curve parameters"
		}
		return curveName(curve)
	}
	return oidName(a.Algorithm, "the key algorithm with OID ")
}

// curveName names an elliptic curve, or returns "" for one the standard
// library reads.
func curveName(curve asn1.ObjectIdentifier) string {
	return oidName(curve, "ECDSA on the curve with OID ")
}

func oidName(oid asn1.ObjectIdentifier, unknown string) string {
	switch name, ok := algorithmNameOf(oid.String()); {
	case supported(oid.String()):
		return ""
	case ok:
		return name
	}
	return unknown + oid.String()
}

type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// unsupportedPrivateKeyType names the key type of a PKCS #8 or SEC 1 private
// key that parses as such but is of a type the standard library does not
// read, or returns "" when der is no such key.
func unsupportedPrivateKeyType(der []byte) string {
	var p8 struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
		Rest       asn1.RawValue `asn1:"optional,tag:0"`
		PublicKey  asn1.RawValue `asn1:"optional,tag:1"`
	}
	if rest, err := asn1.Unmarshal(der, &p8); err == nil && len(rest) == 0 {
		return algorithmName(p8.Algorithm)
	}
	var sec1 struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
		PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
	}
	if rest, err := asn1.Unmarshal(der, &sec1); err == nil && len(rest) == 0 && sec1.Version == 1 && len(sec1.Curve) > 0 {
		return curveName(sec1.Curve)
	}
	return ""
}

// unsupportedPublicKeyType names the key type of a PKIX public key that the
// standard library does not read, or returns "" when der is none.
func unsupportedPublicKeyType(der []byte) string {
	var spki subjectPublicKeyInfo
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) > 0 {
		return ""
	}
	return algorithmName(spki.Algorithm)
}

// unsupportedCertificateKeyType names the type of the public key in a
// certificate whose key the standard library does not read, or returns ""
// when der is not a certificate.
func unsupportedCertificateKeyType(der []byte) string {
	var cert struct {
		TBS struct {
			Version    int `asn1:"optional,explicit,default:0,tag:0"`
			Serial     asn1.RawValue
			Signature  asn1.RawValue
			Issuer     asn1.RawValue
			Validity   asn1.RawValue
			Subject    asn1.RawValue
			PublicKey  subjectPublicKeyInfo
			IssuerUID  asn1.RawValue `asn1:"optional,tag:1"`
			SubjectUID asn1.RawValue `asn1:"optional,tag:2"`
			Extensions asn1.RawValue `asn1:"optional,explicit,tag:3"`
		}
		SignatureAlgorithm asn1.RawValue
		Signature          asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &cert); err != nil || len(rest) > 0 {
		return ""
	}
	return algorithmName(cert.TBS.PublicKey.Algorithm)
}

// badRSAExponent returns checkPublicKey's error for an RSA private key (PKCS
// #1, or PKCS #1 inside PKCS #8) that the standard library refused because
// its public exponent is not an odd number of at least 3, or nil for any
// other der.
func badRSAExponent(der []byte) error {
	var p8 struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
		Rest       asn1.RawValue `asn1:"optional,tag:0"`
		PublicKey  asn1.RawValue `asn1:"optional,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &p8); err == nil && p8.Algorithm.Algorithm.String() == "1.2.840.113549.1.1.1" {
		der = p8.PrivateKey
	}
	var p1 struct {
		Version int
		N       *big.Int
		E       *big.Int
		Rest    []asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &p1); err != nil || p1.N == nil || p1.E == nil || !p1.E.IsInt64() {
		return nil
	}
	if e := p1.E.Int64(); e >= 3 && e%2 == 1 || e > 1<<31-1 {
		return nil
	}
	return checkPublicKey(&rsa.PublicKey{N: p1.N, E: int(p1.E.Int64())})
}
