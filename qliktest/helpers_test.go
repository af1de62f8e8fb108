package qliktest_test

import (
	"bufio"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start is the time every emulator test begins at.
var start = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// signJWT builds a compact JWS by hand, with crypto/rsa only, so that the
// tests can make tokens no builder would.
func signJWT(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		js, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(js)
	}
	input := enc(header) + "." + enc(claims)
	hashes := map[any]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}
	h, ok := hashes[header["alg"]]
	if !ok {
		return input + "." + base64.RawURLEncoding.EncodeToString([]byte("not an RSA signature"))
	}
	d := h.New()
	d.Write([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, d.Sum(nil))
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// otherKey is a key no emulator trusts.
func otherKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

// qlikErr is a decoded Qlik error body.
type qlikErr struct {
	Status       int
	Code, Detail string
}

// do sends a request and returns the response with its body read, and the
// Qlik error in it if any.
func do(t testing.TB, c *http.Client, method, url string, hdr map[string]string, cookies ...*http.Cookie) (*http.Response, []byte, qlikErr) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var e struct {
		Errors []struct {
			Code, Detail, Status string
		}
	}
	q := qlikErr{Status: resp.StatusCode}
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		q.Code, q.Detail = e.Errors[0].Code, e.Errors[0].Detail
		assert.Equal(t, resp.Status[:3], e.Errors[0].Status, "the body's status is the HTTP status, as a string")
	}
	return resp, body, q
}

// wsUpgrade sends an engine WebSocket upgrade and returns the status.
func wsUpgrade(t testing.TB, c *http.Client, url string, hdr http.Header) (int, qlikErr) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.Replace(url, "ws", "http", 1), nil)
	require.NoError(t, err)
	req.Header = hdr.Clone()
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", resp.Header.Get("Sec-WebSocket-Accept"), "RFC 6455 handshake")
		return resp.StatusCode, qlikErr{Status: resp.StatusCode}
	}
	var e struct{ Errors []struct{ Code string } }
	_ = json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&e)
	q := qlikErr{Status: resp.StatusCode}
	if len(e.Errors) > 0 {
		q.Code = e.Errors[0].Code
	}
	return resp.StatusCode, q
}
