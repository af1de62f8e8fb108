package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunScriptedVisit(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	s := out.String()
	assert.Regexp(t, `GET http://127\.0\.0\.1:\d+/ ends at http://localhost:\d+/ \(200\)`, s, "opened by IP, the browser is sent to the site's name")
	assert.Contains(t, s, `proxy mode: Qlik user Alice Adams (subject site-user-1001), engine app "qliktest sample app"; tenant logins: 1, Qlik cookies in the browser: 0`)
	assert.Contains(t, s, `QSEoW mode: Qlik user EXAMPLE\alice, repository 14.254.6, engine app "qliktest sample app"; proxy sessions opened: 1`)
	assert.Contains(t, s, "direct mode: POST /token/cloud gave a token of ")
	assert.Contains(t, s, "OAuth mode: POST /token/oauth gave an access token with which the tenant says Qlik user Alice Adams (subject site-user-1001); impersonation tokens issued: 1")
}

func TestRunRefusesRealTargetsWithoutListen(t *testing.T) {
	err := run(context.Background(), []string{"-tenant", "https://example.eu.qlikcloud.com"}, io.Discard)
	assert.ErrorContains(t, err, "-listen")
}

// TestRunServes starts the site with -listen against the emulators and
// checks that only the site's sign-in decides the user.
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
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	post := func(path string, form url.Values, header ...string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, site+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", site)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := browser.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	get := func(path string) (int, string) {
		resp, err := browser.Get(site + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}

	status, body := get("/")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="qlik-status"`)

	// Not signed in: a user name in the request changes nothing.
	status, body = get("/qlik/cloud/api/v1/users/me?user=alice")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "not signed in to the site")
	resp := post("/token/cloud", url.Values{"user": {"alice"}}, "X-Qsjwt-Token-Request", "1")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	post("/site/login", url.Values{"user": {"bob"}, "password": {"wrong"}})
	status, _ = get("/site/me")
	assert.Equal(t, http.StatusUnauthorized, status, "a wrong password signs no one in")

	post("/site/login", url.Values{"user": {"bob"}, "password": {"builder"}})
	status, body = get("/qlik/cloud/api/v1/users/me")
	require.Equal(t, http.StatusOK, status, body)
	var me struct{ Name string }
	require.NoError(t, json.Unmarshal([]byte(body), &me))
	assert.Equal(t, "Bob Berg", me.Name)
	status, body = get("/qlik/qseow/qps/user")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"userId":"bob"`)

	// Opened by IP, a POST is explained rather than refused without a word.
	req, _ := http.NewRequest(http.MethodPost, strings.Replace(site, "localhost", "127.0.0.1", 1)+"/token/cloud", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
	assert.Contains(t, string(b), "open the page at "+site)

	post("/site/logout", url.Values{})
	status, _ = get("/qlik/cloud/api/v1/users/me")
	assert.Equal(t, http.StatusUnauthorized, status)

	cancel()
	assert.NoError(t, <-done)
}
