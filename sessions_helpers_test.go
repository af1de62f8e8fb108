package qsjwt

import (
	"context"
	"crypto"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

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
	cloud  *Cloud
	signs  *atomic.Int64
}

func newCloudRig(t *testing.T, cfg qliktest.CloudConfig, opts ...CloudOption) *cloudRig {
	t.Helper()
	r := &cloudRig{clock: qliktest.NewClock(fixedNow)}
	cfg.Now, cfg.Certificate = r.clock.Now, testCert(t)
	r.tenant = qliktest.NewCloud(cfg)
	t.Cleanup(r.tenant.Close)
	var signer Signer
	signer, r.signs = sessCountingSigner(t)
	c, err := NewCloud(signer, r.tenant.Issuer, r.tenant.KeyID, append([]CloudOption{WithClock(r.clock.Now)}, opts...)...)
	require.NoError(t, err)
	r.cloud = c
	return r
}

// signAs is a test-only CloudOption that makes a rig's builder sign with
// another issuer or key ID than the tenant's ("" keeps the tenant's).
type signAs struct{ issuer, keyID string }

func (o signAs) applyCloud(c *cloudConfig) {
	if o.issuer != "" {
		c.issuer = o.issuer
	}
	if o.keyID != "" {
		c.keyID = o.keyID
	}
}

func cloudUser(name string) CloudUser {
	return CloudUser{Subject: "sub-" + name, Name: name, Email: name + "@example.com", EmailVerified: true}
}

func (r *cloudRig) session(t *testing.T, u CloudUser) *CloudSession {
	t.Helper()
	s, err := NewCloudSession(r.tenant.URL, r.cloud.TokenSource(u), WithBaseTransport(r.tenant.Client().Transport))
	require.NoError(t, err)
	return s
}

// qseowRig is a virtual proxy, a builder for it and the parts tests look at.
type qseowRig struct {
	clock *qliktest.Clock
	proxy *qliktest.QSEoW
	qseow *QSEoW
	signs *atomic.Int64
}

func newQSEoWRig(t *testing.T, cfg qliktest.QSEoWConfig, opts ...QSEoWOption) *qseowRig {
	t.Helper()
	r := &qseowRig{clock: qliktest.NewClock(fixedNow)}
	cfg.Now, cfg.Certificate = r.clock.Now, testCert(t)
	r.proxy = qliktest.NewQSEoW(cfg)
	t.Cleanup(r.proxy.Close)
	var signer Signer
	signer, r.signs = sessCountingSigner(t)
	q, err := NewQSEoW(signer, append([]QSEoWOption{WithClock(r.clock.Now)}, opts...)...)
	require.NoError(t, err)
	r.qseow = q
	return r
}

func (r *qseowRig) transport(u QSEoWUser) *QSEoWTransport {
	return &QSEoWTransport{Source: r.qseow.TokenSource(u), Base: r.proxy.Client().Transport}
}
