package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunScriptedLogin(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	s := out.String()
	assert.Contains(t, s, "/login/cloud as alice: a token for https://127.0.0.1:")
	assert.Contains(t, s, "GET /api/v1/users/me: Alice Adams (subject site-user-1001); logins: 1")
	assert.Contains(t, s, "/login/qseow as alice: session cookie set, CSRF token for the engine WebSocket received: true")
	assert.Contains(t, s, "with the session cookie only: repository 14.254.6; proxy sessions opened: 1")
}

func TestRunRefusesRealTargetsWithoutListen(t *testing.T) {
	err := run(context.Background(), []string{"-tenant", "https://example.eu.qlikcloud.com"}, io.Discard)
	assert.ErrorContains(t, err, "-listen")
}

// TestRunServes starts the backend with -listen against the emulators and
// calls its endpoints as the page does.
func TestRunServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, pw); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.True(t, strings.HasPrefix(line, "serving http://localhost:"), line)
	site := strings.Fields(line)[1]

	resp, err := http.Get(site + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "<title>qsjwt mashup</title>")

	resp, err = http.PostForm(site+"/login/cloud", url.Values{"user": {"bob"}})
	require.NoError(t, err)
	var cloud map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&cloud))
	resp.Body.Close()
	assert.True(t, strings.HasPrefix(cloud["tenant"], "http://localhost:"), "the browser reaches the emulators on its own site")
	assert.NotEmpty(t, cloud["token"])

	resp, err = http.PostForm(site+"/login/qseow", url.Values{"user": {"bob"}})
	require.NoError(t, err)
	var qs map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&qs))
	resp.Body.Close()
	require.Len(t, resp.Cookies(), 1)
	assert.Equal(t, "X-Qlik-Session-jwt-HTTP", resp.Cookies()[0].Name, "the proxy's cookie, named as over plain http")
	assert.True(t, strings.HasSuffix(qs["proxy"], "/jwt"))

	resp, err = http.PostForm(site+"/login/qseow", url.Values{"user": {"mallory"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	cancel()
	assert.NoError(t, <-done)
}
