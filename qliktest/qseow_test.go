package qliktest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

const xrf = "abcdefghijklmnop"

func qseowToken(t *testing.T, p *qliktest.QSEoW, change func(h, c map[string]any)) string {
	t.Helper()
	h := map[string]any{"alg": "RS256", "typ": "JWT"}
	c := map[string]any{p.UserIDClaim: "anna", p.UserDirectoryClaim: "DIR", "exp": start.Add(time.Hour).Unix()}
	if change != nil {
		change(h, c)
	}
	return signJWT(t, p.Key, h, c)
}

// call is GET <proxy>/<path>?xrfkey with the header, a token and cookies.
func call(t *testing.T, p *qliktest.QSEoW, path, raw string, cookies ...*http.Cookie) (*http.Response, []byte, qlikErr) {
	t.Helper()
	h := map[string]string{"X-Qlik-Xrfkey": xrf}
	if raw != "" {
		h["Authorization"] = "Bearer " + raw
	}
	return do(t, p.Client(), http.MethodGet, p.ProxyURL+"/"+path+"?xrfkey="+xrf, h, cookies...)
}

func TestQSEoWSessionAndLimit(t *testing.T) {
	clock := qliktest.NewClock(start)
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{Now: clock.Now})
	defer p.Close()
	assert.Equal(t, "X-Qlik-Session-jwt", p.SessionCookieName)
	raw := qseowToken(t, p, nil)

	resp, body, e := call(t, p, "qrs/about", raw)
	require.Equal(t, 200, resp.StatusCode, e.Detail)
	assert.Contains(t, string(body), `"schemaPath":"About"`)
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.Equal(t, "X-Qlik-Session-jwt", cookies[0].Name)

	// The cookie is the session: no new one, with or without the token.
	for range 10 {
		resp, _, _ = call(t, p, "qrs/about", raw, cookies...)
		assert.Empty(t, resp.Cookies())
	}
	resp, body, _ = call(t, p, "qps/user", "", cookies...)
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"userDirectory":"DIR","userId":"anna"}`, string(body))
	assert.Equal(t, 1, p.SessionsOpened())
	assert.Equal(t, 1, p.ActiveSessions(`DIR\anna`))

	// A token without the cookie opens a session per call, up to five.
	for i := 2; i <= 6; i++ {
		_, _, e = call(t, p, "qrs/about", raw)
		if i <= 5 {
			assert.Equal(t, 200, e.Status, "session %d", i)
		} else {
			assert.Equal(t, qlikErr{Status: 403, Code: "QPS-SESSION-LIMIT"}, qlikErr{e.Status, e.Code, ""}, "session %d", i)
		}
	}
	assert.Equal(t, 5, p.SessionsOpened(`DIR\anna`))
	assert.Equal(t, 1, p.SessionLimitRefusals())
	assert.Equal(t, 0, p.SessionsOpened(`DIR\bob`))
	_, _, e = call(t, p, "qrs/about", "", cookies...)
	assert.Equal(t, 200, e.Status, "the first session still works")

	clock.Advance(qliktest.DefaultSessionTimeout)
	assert.Equal(t, 0, p.ActiveSessions())
	_, _, e = call(t, p, "qrs/about", "", cookies...)
	assert.Equal(t, qlikErr{Status: 401, Code: "QPS-AUTH-1"}, qlikErr{e.Status, e.Code, ""}, "sessions time out")
	_, _, e = call(t, p, "qrs/about", raw, cookies...)
	assert.Equal(t, 200, e.Status, "a stale cookie with a token opens a new session")
	assert.Equal(t, 6, p.SessionsOpened())

	p.ExpireSessions()
	assert.Equal(t, 0, p.ActiveSessions())
}

func TestQSEoWRefusals(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{Now: qliktest.NewClock(start).Now, MaxSessionsPerUser: 1000}) // every accepted case opens a session
	defer p.Close()
	other := otherKey(t)
	cases := []struct {
		name   string
		change func(h, c map[string]any)
		status int
		code   string
		detail string
	}{
		{"accepted", nil, 200, "", ""},
		{"RS384", func(h, _ map[string]any) { h["alg"] = "RS384" }, 200, "", ""},
		{"RS512", func(h, _ map[string]any) { h["alg"] = "RS512" }, 200, "", ""},
		{"no exp", func(_, c map[string]any) { delete(c, "exp") }, 200, "", ""},
		{"kid is not checked", func(h, _ map[string]any) { h["kid"] = "anything" }, 200, "", ""},
		{"HS256", func(h, _ map[string]any) { h["alg"] = "HS256" }, 401, "QPS-JWT-2", `alg "HS256"`},
		{"none", func(h, _ map[string]any) { h["alg"] = "none" }, 401, "QPS-JWT-2", `alg "none"`},
		{"no user ID", func(_, c map[string]any) { delete(c, "userId") }, 401, "QPS-JWT-1", "Missing required claim: userId"},
		{"no directory", func(_, c map[string]any) { delete(c, "userDirectory") }, 401, "QPS-JWT-1", "Missing required claim: userDirectory"},
		{"empty user ID", func(_, c map[string]any) { c["userId"] = "" }, 401, "QPS-JWT-1", "userId is empty"},
		{"user ID number", func(_, c map[string]any) { c["userId"] = 7 }, 401, "QPS-JWT-1", "JSON string"},
		{"backslash", func(_, c map[string]any) { c["userId"] = `DIR\anna` }, 401, "QPS-JWT-1", "backslash"},
		{"white space", func(_, c map[string]any) { c["userDirectory"] = " DIR" }, 401, "QPS-JWT-1", "white space"},
		{"other claim name", func(_, c map[string]any) { c["user"] = c["userId"]; delete(c, "userId") }, 401, "QPS-JWT-1", "userId"},
		{"expired", func(_, c map[string]any) { c["exp"] = start.Unix() - 5 }, 401, "QPS-JWT-3", "expired"},
		{"expired within tolerance", func(_, c map[string]any) { c["exp"] = start.Unix() - 4 }, 200, "", ""},
		{"not yet valid", func(_, c map[string]any) { c["nbf"] = start.Unix() + 6 }, 401, "QPS-JWT-3", "not valid before"},
		{"exp string", func(_, c map[string]any) { c["exp"] = "soon" }, 401, "QPS-JWT-1", "NumericDate"},
		{"aud ignored without audience", func(_, c map[string]any) { c["aud"] = []string{"x"} }, 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, e := call(t, p, "qrs/about", qseowToken(t, p, tc.change))
			assert.Equal(t, tc.status, e.Status)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Detail, tc.detail)
		})
	}
	t.Run("another key", func(t *testing.T) {
		_, _, e := call(t, p, "qrs/about", signJWT(t, other, map[string]any{"alg": "RS256"}, map[string]any{"userId": "a", "userDirectory": "D"}))
		assert.Equal(t, qlikErr{Status: 401, Code: "QPS-JWT-2"}, qlikErr{e.Status, e.Code, ""})
	})
	t.Run("JWE", func(t *testing.T) {
		_, _, e := call(t, p, "qrs/about", "a.b.c.d.e")
		assert.Equal(t, "QPS-JWT-1", e.Code)
	})
	t.Run("no token", func(t *testing.T) {
		_, _, e := call(t, p, "qrs/about", "")
		assert.Equal(t, qlikErr{Status: 401, Code: "QPS-AUTH-1"}, qlikErr{e.Status, e.Code, ""})
	})
	t.Run("xrfkey", func(t *testing.T) {
		raw := qseowToken(t, p, nil)
		for _, tc := range []struct{ query, header string }{{"", ""}, {xrf, ""}, {"", xrf}, {xrf, "ABCDEFGHIJKLMNOP"}, {"short", "short"}} {
			url := p.ProxyURL + "/qrs/about"
			if tc.query != "" {
				url += "?xrfkey=" + tc.query
			}
			_, _, e := do(t, p.Client(), http.MethodGet, url, map[string]string{"Authorization": "Bearer " + raw, "X-Qlik-Xrfkey": tc.header})
			assert.Equal(t, qlikErr{Status: 403, Code: "QRS-XRF-1"}, qlikErr{e.Status, e.Code, ""}, "%+v", tc)
		}
	})
	t.Run("outside the prefix", func(t *testing.T) {
		_, _, e := do(t, p.Client(), http.MethodGet, p.URL+"/qrs/about?xrfkey="+xrf, map[string]string{"X-Qlik-Xrfkey": xrf})
		assert.Equal(t, qlikErr{Status: 404, Code: "QPS-404"}, qlikErr{e.Status, e.Code, ""})
	})
}

func TestQSEoWAudienceAndClaimNames(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{Now: qliktest.NewClock(start).Now, Prefix: "/sales/", Audience: "qlik-sense",
		UserIDClaim: "user", UserDirectoryClaim: "directory", PlainHTTP: true})
	defer p.Close()
	assert.Equal(t, "X-Qlik-Session-sales-HTTP", p.SessionCookieName, "-HTTP over plain http")
	assert.True(t, strings.HasSuffix(p.ProxyURL, "/sales"))
	for _, tc := range []struct {
		aud  any
		code string
	}{{"qlik-sense", ""}, {nil, "QPS-JWT-1"}, {"other", "QPS-JWT-4"}, {[]string{"qlik-sense"}, "QPS-JWT-1"}} {
		raw := qseowToken(t, p, func(_, c map[string]any) {
			if tc.aud != nil {
				c["aud"] = tc.aud
			}
		})
		_, _, e := call(t, p, "qrs/about", raw)
		assert.Equal(t, tc.code, e.Code, "aud %v", tc.aud)
	}
}

func TestQSEoWEngineWebSocket(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{AllowedOrigins: []string{"https://mashup.example.com"}})
	defer p.Close()
	resp, _, e := call(t, p, "qps/csrftoken", qseowToken(t, p, func(_, c map[string]any) { c["exp"] = time.Now().Add(time.Hour).Unix() }))
	require.Equal(t, 200, resp.StatusCode, e.Detail)
	csrf := resp.Header.Get("qlik-csrf-token")
	require.NotEmpty(t, csrf)
	cookie := resp.Cookies()[0]
	ws := strings.Replace(p.ProxyURL, "https", "wss", 1) + "/app/app-1?qlik-csrf-token=" + csrf
	good := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {p.URL}}

	status, _ := wsUpgrade(t, p.Client(), ws, good)
	assert.Equal(t, http.StatusSwitchingProtocols, status)
	h := good.Clone()
	h.Set("Origin", "https://mashup.example.com")
	status, _ = wsUpgrade(t, p.Client(), ws, h)
	assert.Equal(t, http.StatusSwitchingProtocols, status, "an origin on the allow list")

	for name, tc := range map[string]struct {
		url    string
		change func(h http.Header)
		status int
		code   string
	}{
		"bearer":       {ws, func(h http.Header) { h.Set("Authorization", "Bearer x") }, 400, "QPS-WS-1"},
		"no origin":    {ws, func(h http.Header) { h.Del("Origin") }, 101, ""},
		"other origin": {ws, func(h http.Header) { h.Set("Origin", "https://evil.example.com") }, 403, "QPS-ORIGIN-1"},
		"no cookie":    {ws, func(h http.Header) { h.Del("Cookie") }, 401, "QPS-AUTH-1"},
		"wrong csrf":   {strings.Replace(ws, csrf, "x", 1), func(http.Header) {}, 403, "CSRF-TOKEN-2"},
	} {
		h := good.Clone()
		tc.change(h)
		status, e := wsUpgrade(t, p.Client(), tc.url, h)
		assert.Equal(t, qlikErr{Status: tc.status, Code: tc.code}, qlikErr{status, e.Code, ""}, name)
	}
}

// @qlik/api's windowscookie auth in Node: GET qlik-embed/main.js with the
// token and no xrfkey, then the stored Set-Cookie string, attributes and
// all, as the Cookie header of every call and of the engine WebSocket.
func TestQSEoWEmbedMainJSExchange(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{})
	defer p.Close()
	raw := qseowToken(t, p, func(_, c map[string]any) { c["exp"] = time.Now().Add(time.Hour).Unix() })
	resp, body, e := do(t, p.Client(), http.MethodGet, p.ProxyURL+"/qlik-embed/main.js",
		map[string]string{"Authorization": "Bearer " + raw, "Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, resp.StatusCode, e.Detail)
	assert.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	assert.NotEmpty(t, body)
	setCookie := resp.Header.Get("Set-Cookie")
	require.True(t, strings.HasPrefix(setCookie, p.SessionCookieName+"="), setCookie)
	assert.Contains(t, setCookie, "; Path=/", "the stored string carries attributes")

	_, _, e = do(t, p.Client(), http.MethodGet, p.ProxyURL+"/qlik-embed/main.js", nil)
	assert.Equal(t, qlikErr{Status: 401, Code: "QPS-AUTH-1"}, qlikErr{e.Status, e.Code, ""}, "no token, no cookie: no session")
	_, _, e = do(t, p.Client(), http.MethodGet, p.ProxyURL+"/qps/csrftoken", map[string]string{"Cookie": setCookie})
	assert.Equal(t, qlikErr{Status: 403, Code: "QRS-XRF-1"}, qlikErr{e.Status, e.Code, ""}, "the QPS API still needs the xrfkey")

	resp, _, e = do(t, p.Client(), http.MethodGet, p.ProxyURL+"/qps/csrftoken?xrfkey="+xrf,
		map[string]string{"Cookie": setCookie, "X-Qlik-Xrfkey": xrf})
	require.Equal(t, http.StatusOK, resp.StatusCode, e.Detail)
	csrf := resp.Header.Get("qlik-csrf-token")
	require.NotEmpty(t, csrf)
	assert.Equal(t, 1, p.SessionsOpened(), "the cookie string is the session")

	ws := strings.Replace(p.ProxyURL, "https", "wss", 1) + "/app/" + qliktest.SampleAppID + "?qlik-csrf-token=" + csrf
	status, _ := wsUpgrade(t, p.Client(), ws, http.Header{"Cookie": {setCookie}})
	assert.Equal(t, http.StatusSwitchingProtocols, status, "no Origin, the Set-Cookie string as Cookie")
}
