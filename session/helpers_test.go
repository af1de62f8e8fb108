package session

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// fixedNow is where every test clock starts.
var fixedNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// testKey reads the committed test-only key with the standard library alone.
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../testdata/test-only-rsa2048-pkcs8.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return k.(*rsa.PrivateKey)
}

// testCert reads the committed test-only certificate of testKey.
func testCert(t testing.TB) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile("../testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

// countingSigner signs with the test key and counts its signatures.
func countingSigner(t testing.TB) (qsjwt.Signer, *atomic.Int64) {
	t.Helper()
	key := testKey(t)
	var n atomic.Int64
	return qsjwt.SignerFunc(key.Public(), func(_ context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
		n.Add(1)
		return key.Sign(nil, digest, hash)
	}), &n
}

// The two functions below are the only places the session tests make
// builders: the root package's builder API changes under them.

// newCloudBuilder returns a Qlik Cloud builder with the test key for issuer
// and keyID, and its signature count.
func newCloudBuilder(t testing.TB, issuer, keyID string, opts ...qsjwt.CloudOption) (*qsjwt.Cloud, *atomic.Int64) {
	t.Helper()
	signer, n := countingSigner(t)
	c, err := qsjwt.NewCloud(signer, issuer, keyID, opts...)
	require.NoError(t, err)
	return c, n
}

// newQSEoWBuilder returns a QSEoW builder with the test key, and its
// signature count.
func newQSEoWBuilder(t testing.TB, opts ...qsjwt.QSEoWOption) (*qsjwt.QSEoW, *atomic.Int64) {
	t.Helper()
	signer, n := countingSigner(t)
	q, err := qsjwt.NewQSEoW(signer, opts...)
	require.NoError(t, err)
	return q, n
}

// wsStatus sends the engine WebSocket upgrade for wsURL and header and
// returns the status.
func wsStatus(t testing.TB, base http.RoundTripper, wsURL string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.Replace(wsURL, "ws", "http", 1), nil)
	require.NoError(t, err)
	req.Header = header.Clone()
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := base.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// cloudRig is a tenant, a builder for it and the parts tests look at.
type cloudRig struct {
	clock  *qliktest.Clock
	tenant *qliktest.Cloud
	cloud  *qsjwt.Cloud
	signs  *atomic.Int64
}

// newCloudRig starts a tenant; the builder signs for its issuer and key ID
// unless issuer or keyID say otherwise ("" keeps the tenant's).
func newCloudRig(t *testing.T, cfg qliktest.CloudConfig, issuer, keyID string, opts ...qsjwt.CloudOption) *cloudRig {
	t.Helper()
	r := &cloudRig{clock: qliktest.NewClock(fixedNow)}
	cfg.Now, cfg.Certificate = r.clock.Now, testCert(t)
	r.tenant = qliktest.NewCloud(cfg)
	t.Cleanup(r.tenant.Close)
	if issuer == "" {
		issuer = r.tenant.Issuer
	}
	if keyID == "" {
		keyID = r.tenant.KeyID
	}
	r.cloud, r.signs = newCloudBuilder(t, issuer, keyID, append([]qsjwt.CloudOption{qsjwt.WithClock(r.clock.Now)}, opts...)...)
	return r
}

func cloudUser(name string) qsjwt.CloudUser {
	return qsjwt.CloudUser{Subject: "sub-" + name, Name: name, Email: name + "@example.com", EmailVerified: true}
}

func (r *cloudRig) session(t *testing.T, u qsjwt.CloudUser) *Cloud {
	t.Helper()
	s, err := NewCloud(r.tenant.URL, r.cloud.TokenSource(u), WithBaseTransport(r.tenant.Client().Transport))
	require.NoError(t, err)
	return s
}

// qseowRig is a virtual proxy, a builder for it and the parts tests look at.
type qseowRig struct {
	clock *qliktest.Clock
	proxy *qliktest.QSEoW
	qseow *qsjwt.QSEoW
	signs *atomic.Int64
	ahead atomic.Int64 // how far the proxy's clock runs ahead of ours, in ns
}

func newQSEoWRig(t *testing.T, cfg qliktest.QSEoWConfig, opts ...qsjwt.QSEoWOption) *qseowRig {
	t.Helper()
	r := &qseowRig{clock: qliktest.NewClock(fixedNow)}
	cfg.Now = func() time.Time { return r.clock.Now().Add(time.Duration(r.ahead.Load())) }
	cfg.Certificate = testCert(t)
	r.proxy = qliktest.NewQSEoW(cfg)
	t.Cleanup(r.proxy.Close)
	r.qseow, r.signs = newQSEoWBuilder(t, append([]qsjwt.QSEoWOption{qsjwt.WithClock(r.clock.Now)}, opts...)...)
	return r
}

// source signs a new token for u on each call: the transport caches.
func (r *qseowRig) source(u qsjwt.QSEoWUser) qsjwt.TokenSource {
	return qsjwt.TokenSourceFunc(func(ctx context.Context) (qsjwt.Token, error) { return r.qseow.Sign(ctx, u) })
}

// transport returns a transport for u to the proxy, or to front (a fault
// injector in front of it) when given.
func (r *qseowRig) transport(t testing.TB, u qsjwt.QSEoWUser, opts ...QSEoWOption) *QSEoWTransport {
	t.Helper()
	tr, err := NewQSEoWTransport(r.proxy.ProxyURL, r.source(u), append([]QSEoWOption{WithBaseTransport(r.proxy.Client().Transport), WithClock(r.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return tr
}
