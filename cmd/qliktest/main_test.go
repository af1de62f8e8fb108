package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServesBothEmulators runs the command, reads its one JSON line, and
// reaches the tenant (with the API key), the site's proxy and its QRS (with
// the client certificate) trusting caFile alone.
func TestServesBothEmulators(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--dir", t.TempDir()}, pw); pw.Close() }()

	line, err := bufio.NewReader(pr).ReadBytes('\n')
	require.NoError(t, err)
	var e Endpoints
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&e))
	for _, p := range []string{e.CAFile, e.QSEoW.ClientCert, e.QSEoW.ClientKey} {
		assert.True(t, filepath.IsAbs(p), p)
	}
	fi, err := os.Stat(e.QSEoW.ClientKey)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	ca, err := os.ReadFile(e.CAFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	pair, err := tls.LoadX509KeyPair(e.QSEoW.ClientCert, e.QSEoW.ClientKey)
	require.NoError(t, err)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}

	req, _ := http.NewRequest(http.MethodGet, e.Cloud.URL+"/api/v1/identity-providers", nil)
	req.Header.Set("Authorization", "Bearer "+e.Cloud.APIKey)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the tenant's admin API with the API key")

	req, _ = http.NewRequest(http.MethodGet, e.QSEoW.QRSURL+"/qrs/proxyservice/full?xrfkey=0123456789abcdef", nil)
	req.Header.Set("X-Qlik-Xrfkey", "0123456789abcdef")
	req.Header.Set("X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_repository")
	resp, err = c.Do(req)
	require.NoError(t, err)
	var services []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&services))
	resp.Body.Close()
	assert.Len(t, services, 2, "the central and a rim proxy service")

	resp, err = c.Get(e.QSEoW.URL + "/jwt/qps/user")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no virtual proxy is set up yet")

	cancel()
	require.NoError(t, <-done)
}
