package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// visit does what the page does in proxy, QSEoW and OAuth modes, as alice, with
// an HTTP client that keeps cookies like a browser. It starts at the
// site's IP address, which sends it to the site's own name.
func visit(ctx context.Context, out io.Writer, byIP, site string, tenant *qliktest.Cloud, proxy *qliktest.QSEoW) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	call := func(method, path string, form url.Values, header map[string]string, into any) (*http.Response, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, site+path, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if method != http.MethodGet {
			req.Header.Set("Origin", site) // as a browser does
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := browser.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if err := session.CheckResponse(resp); err != nil {
			return resp, err
		}
		if into != nil {
			return resp, json.NewDecoder(resp.Body).Decode(into)
		}
		return resp, nil
	}
	fmt.Fprintf(out, "site at %s, emulated Qlik Cloud tenant at %s, emulated QSEoW proxy at %s\n", site, tenant.URL, proxy.ProxyURL)

	resp, err := browser.Get(byIP + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintf(out, "GET %s/ ends at %s (%d)\n", byIP, resp.Request.URL, resp.StatusCode)

	if _, err := call(http.MethodPost, "/site/login", url.Values{"user": {"alice"}, "password": {"wonderland"}}, nil, nil); err != nil {
		return err
	}
	var me struct{ Name, Subject string }
	if _, err := call(http.MethodGet, "/qlik/cloud/api/v1/users/me", nil, nil, &me); err != nil {
		return err
	}
	title, err := openApp(ctx, jar, site, "/qlik/cloud/app/"+qliktest.SampleAppID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "proxy mode: Qlik user %s (subject %s), engine app %q; tenant logins: %d, Qlik cookies in the browser: %d\n",
		me.Name, me.Subject, title, tenant.Logins(), qlikCookies(jar, tenant.URL))

	var user struct{ UserDirectory, UserID string }
	if _, err := call(http.MethodGet, "/qlik/qseow/qps/user", nil, nil, &user); err != nil {
		return err
	}
	var about struct{ BuildVersion string }
	if _, err := call(http.MethodGet, "/qlik/qseow/qrs/about", nil, nil, &about); err != nil {
		return err
	}
	if title, err = openApp(ctx, jar, site, "/qlik/qseow/app/"+qliktest.SampleAppID); err != nil {
		return err
	}
	fmt.Fprintf(out, "QSEoW mode: Qlik user %s\\%s, repository %s, engine app %q; proxy sessions opened: %d\n",
		user.UserDirectory, user.UserID, about.BuildVersion, title, proxy.SessionsOpened())

	var tok struct{ Token string }
	if _, err := call(http.MethodPost, "/token/cloud", nil, map[string]string{session.TokenRequestHeader: "1"}, &tok); err != nil {
		return err
	}
	fmt.Fprintf(out, "direct mode: POST /token/cloud gave a token of %d bytes for the page to send to %s/login/jwt-session\n", len(tok.Token), tenant.URL)

	var access struct{ Token string }
	if _, err := call(http.MethodPost, "/token/oauth", nil, map[string]string{session.TokenRequestHeader: "1"}, &access); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tenant.URL+"/api/v1/users/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+access.Token)
	resp, err = tenant.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := session.CheckResponse(resp); err != nil {
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		return err
	}
	fmt.Fprintf(out, "OAuth mode: POST /token/oauth gave an access token with which the tenant says Qlik user %s (subject %s); impersonation tokens issued: %d\n",
		me.Name, me.Subject, tenant.OAuthTokensIssued(me.Subject))
	return nil
}

// openApp opens the engine WebSocket at path of the site with the site's
// cookie and returns the app's title (OpenDoc, GetAppLayout).
func openApp(ctx context.Context, jar http.CookieJar, site, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u, _ := url.Parse(site)
	h := http.Header{"Origin": {site}}
	for _, c := range jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(site, "http")+path, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if resp != nil {
			return "", fmt.Errorf("engine WebSocket %s: %s", path, resp.Status)
		}
		return "", err
	}
	defer conn.CloseNow()
	id := 0
	rpc := func(handle int, method string, params ...any) (map[string]any, error) {
		id++
		msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "handle": handle, "method": method, "params": params})
		if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
			return nil, err
		}
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return nil, err
			}
			var m struct {
				ID     int
				Result map[string]any
				Error  *struct{ Message string }
			}
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
			switch {
			case m.ID != id:
				continue // a notification
			case m.Error != nil:
				return nil, fmt.Errorf("engine %s: %s", method, m.Error.Message)
			}
			return m.Result, nil
		}
	}
	doc, err := rpc(-1, "OpenDoc", qliktest.SampleAppID)
	if err != nil {
		return "", err
	}
	handle, _ := doc["qReturn"].(map[string]any)["qHandle"].(float64)
	layout, err := rpc(int(handle), "GetAppLayout")
	if err != nil {
		return "", err
	}
	title, _ := layout["qLayout"].(map[string]any)["qTitle"].(string)
	_ = conn.Close(websocket.StatusNormalClosure, "")
	return title, nil
}

// qlikCookies counts the cookies the browser holds for the tenant.
func qlikCookies(jar http.CookieJar, tenant string) int {
	u, _ := url.Parse(tenant)
	return len(jar.Cookies(u))
}
