package qsjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		typ  KeyType
		name string
		want string
		slow bool
	}{
		{RSA2048, "RSA-2048", "RSA-2048", false},
		{RSA3072, "RSA-3072", "RSA-3072", true},
		{RSA4096, "RSA-4096", "RSA-4096", true},
		{ECDSAP256, "ECDSA-P256", "ECDSA P-256", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.typ.String())
			if tt.slow && testing.Short() {
				t.Skip("slow key generation in -short mode")
			}
			key, err := GenerateKey(tt.typ)
			require.NoError(t, err)
			assert.Equal(t, tt.want, describeKey(key.Public()))
		})
	}
	for _, typ := range []KeyType{0, ECDSAP256 + 1} {
		key, err := GenerateKey(typ)
		assert.Nil(t, key)
		requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{typ.String(), "RSA4096"}, nil)
	}
}

func TestSelfSignedCertificate(t *testing.T) {
	key := testKey(t)
	cert, err := SelfSignedCertificate(key, withCertificateClock(fixedClock))
	require.NoError(t, err)

	assert.Equal(t, x509.SHA256WithRSA, cert.SignatureAlgorithm)
	require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature), "signed by its own key")
	assert.True(t, key.PublicKey.Equal(cert.PublicKey))
	assert.Equal(t, defaultCommonName, cert.Subject.CommonName)
	assert.Equal(t, "qs-jwt", cert.Issuer.CommonName)
	assert.Equal(t, fixedNow.Add(-time.Minute), cert.NotBefore)
	assert.Equal(t, fixedNow.Add(1825*24*time.Hour), cert.NotAfter)
	assert.Equal(t, 1, cert.SerialNumber.Sign(), "serial is positive")
	assert.LessOrEqual(t, cert.SerialNumber.BitLen(), 128)

	again, err := SelfSignedCertificate(key, withCertificateClock(fixedClock))
	require.NoError(t, err)
	assert.NotEqual(t, 0, cert.SerialNumber.Cmp(again.SerialNumber), "serials are random")

	parsed, err := ParseCertificate(CertificatePEM(cert))
	require.NoError(t, err)
	assert.True(t, cert.Equal(parsed), "round trip through PEM")

	cert, err = SelfSignedCertificate(key, WithCommonName("qlik-prod"), WithValidity(48*time.Hour), withCertificateClock(fixedClock))
	require.NoError(t, err)
	assert.Equal(t, "qlik-prod", cert.Subject.CommonName)
	assert.Equal(t, fixedNow.Add(48*time.Hour), cert.NotAfter)

	ec, err := ParsePrivateKey(fixture(t, "ec-p256-sec1.pem"))
	require.NoError(t, err)
	cert, err = SelfSignedCertificate(ec)
	require.NoError(t, err)
	assert.Equal(t, x509.ECDSAWithSHA256, cert.SignatureAlgorithm)
	assert.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature))
	assert.WithinDuration(t, time.Now().Add(-time.Minute), cert.NotBefore, time.Minute, "default clock is time.Now")
}

func TestSelfSignedCertificateRefusals(t *testing.T) {
	ed, err := ParsePrivateKey(fixture(t, "ed25519-pkcs8.pem"))
	require.NoError(t, err)
	weak, err := x509.ParsePKCS8PrivateKey(pemDER(t, "rsa1024-pkcs8.pem"))
	require.NoError(t, err)

	tests := []struct {
		name      string
		key       crypto.Signer
		opts      []CertificateOption
		sentinels []error
		contains  []string
	}{
		{"every bad option at once", testKey(t), []CertificateOption{WithCommonName(" "), WithValidity(0)},
			[]error{errInvalidOption}, []string{"WithCommonName: the common name is empty", "WithValidity"}},
		{"negative validity", testKey(t), []CertificateOption{WithValidity(-time.Hour)}, []error{errInvalidOption}, []string{"WithValidity", "-1h0m0s"}},
		{"long common name", testKey(t), []CertificateOption{WithCommonName(strings.Repeat("x", 65))}, []error{errInvalidOption}, []string{"65 characters"}},
		{"nil key", nil, nil, nil, []string{"no key"}},
		{"Ed25519", ed.(crypto.Signer), nil, []error{ErrUnsupportedKey}, []string{"SHA-256"}},
		{"RSA 1024", weak.(crypto.Signer), nil, nil, []string{"1024 bits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := SelfSignedCertificate(tt.key, tt.opts...)
			assert.Nil(t, cert)
			requireKeyError(t, err, tt.sentinels, tt.contains, nil)
		})
	}
	_, err = SelfSignedCertificate(testKey(t), WithCommonName(""), WithValidity(0))
	var oe *OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithCommonName", oe.Option)
}

func TestKeyPEMRoundTrip(t *testing.T) {
	for _, file := range []string{"rsa2048-pkcs8.pem", "ec-p256-sec1.pem", "ed25519-pkcs8.pem"} {
		t.Run(file, func(t *testing.T) {
			key, err := ParsePrivateKey(fixture(t, file))
			require.NoError(t, err)

			data, err := privateKeyPEM(key)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")), "PKCS #8")
			back, err := ParsePrivateKey(data)
			require.NoError(t, err)
			assert.True(t, key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(back))

			data, err = publicKeyPEM(key.Public())
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(data, []byte("-----BEGIN PUBLIC KEY-----\n")), "PKIX")
			pub, err := ParsePublicKey(data)
			require.NoError(t, err)
			assert.True(t, key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
		})
	}

	_, err := privateKeyPEM(opaqueSigner{key: testKey(t)})
	requireKeyError(t, err, []error{ErrUnsupportedKey}, []string{"RSA-2048", "qsjwt.opaqueSigner"}, nil)
	_, err = privateKeyPEM(nil)
	requireKeyError(t, err, nil, []string{"no private key"}, nil)
	_, err = publicKeyPEM(nil)
	requireKeyError(t, err, nil, []string{"no public key"}, nil)
	_, err = publicKeyPEM(struct{}{})
	requireKeyError(t, err, []error{ErrUnsupportedKey}, nil, nil)
	assert.Nil(t, CertificatePEM(nil))
}

func TestThumbprint(t *testing.T) {
	// RFC 7638, section 3.1.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	require.NoError(t, err)
	rfc := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	got, err := Thumbprint(rfc)
	require.NoError(t, err)
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", got)

	// Expected values computed independently with jwx's jwk.Thumbprint.
	for _, tt := range []struct{ file, want string }{
		{"rsa2048-pkcs8.pem", "ERzXiMXzbwJYMrBGPNDiHspEAZ2KieoKt7sxqr59UjM"},
		{"ec-p256-sec1.pem", "rg81Yq4nwEVAr_akvJABU2l2Y4ivsQC1ihX6pvnttFo"},
		{"ec-p384-pkcs8.pem", "GZdjNy9AfNQWYmJmbGpKbFCo78eDSktbk4_yz_JA_ME"},
		{"ec-p521-pkcs8.pem", "1VBZaHZswPDcNTmLt2ez9dnbkeoZwiEiqmpktRRTT60"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			key, err := ParsePrivateKey(fixture(t, tt.file))
			require.NoError(t, err)
			got, err := Thumbprint(key.Public())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	fromCert, err := Thumbprint(testCertKey(t))
	require.NoError(t, err)
	assert.Equal(t, "ERzXiMXzbwJYMrBGPNDiHspEAZ2KieoKt7sxqr59UjM", fromCert, "the certificate's key has the private key's thumbprint")

	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for name, pub := range map[string]crypto.PublicKey{"P-224": &p224.PublicKey, "Ed25519": edPub, "nil": nil} {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := Thumbprint(pub)
			requireKeyError(t, err, []error{ErrUnsupportedKey}, nil, nil)
		})
	}
	_, err = Thumbprint(&rsa.PublicKey{})
	requireKeyError(t, err, nil, []string{"empty"}, nil)
}
