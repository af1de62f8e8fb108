package qsjwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"hash"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixedNow is the clock every test signs with.
var fixedNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// testKey reads the committed test-only key with the standard library alone,
// independently of keys.go.
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("testdata/test-only-rsa2048-pkcs8.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return k.(*rsa.PrivateKey)
}

func testSigner(t testing.TB) Signer {
	t.Helper()
	s, err := SignerFromCrypto(testKey(t))
	require.NoError(t, err)
	return s
}

// testCert reads the committed test-only certificate.
func testCert(t testing.TB) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

// testCertKey returns the public key of the committed test-only certificate.
func testCertKey(t testing.TB) *rsa.PublicKey {
	t.Helper()
	return testCert(t).PublicKey.(*rsa.PublicKey)
}

// decoded is a token taken apart and checked with crypto/rsa only.
type decoded struct {
	header map[string]json.RawMessage
	claims map[string]json.RawMessage
}

// verifyStdlib checks raw's RS256/384/512 signature with crypto/rsa and the
// certificate's key and returns the raw JSON of header and claims, so that
// tests see exactly the JSON types Qlik sees.
func verifyStdlib(t testing.TB, raw string, pub *rsa.PublicKey) decoded {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3, "compact JWS has three parts")
	hdrJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	claimsJSON, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)

	var d decoded
	dec := json.NewDecoder(bytes.NewReader(hdrJSON))
	require.NoError(t, dec.Decode(&d.header))
	require.NoError(t, json.Unmarshal(claimsJSON, &d.claims))

	var alg string
	require.NoError(t, json.Unmarshal(d.header["alg"], &alg))
	var h hash.Hash
	var ch crypto.Hash
	switch alg {
	case "RS256":
		h, ch = sha256.New(), crypto.SHA256
	case "RS384":
		h, ch = sha512.New384(), crypto.SHA384
	case "RS512":
		h, ch = sha512.New(), crypto.SHA512
	default:
		t.Fatalf("unexpected alg %q", alg)
	}
	h.Write([]byte(parts[0] + "." + parts[1]))
	require.NoError(t, rsa.VerifyPKCS1v15(pub, ch, h.Sum(nil), sig), "signature verifies with crypto/rsa")
	return d
}

// str returns the JSON value of a claim as written, e.g. `"user"` or `true`.
func (d decoded) str(name string) string { return string(d.claims[name]) }

// sessCountingSigner signs with the test key and counts its signatures.
func sessCountingSigner(t testing.TB) (Signer, *atomic.Int64) {
	t.Helper()
	key := testKey(t)
	var n atomic.Int64
	return SignerFunc(key.Public(), func(_ context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
		n.Add(1)
		return key.Sign(nil, digest, hash)
	}), &n
}
