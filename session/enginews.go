package session

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The engine WebSocket is opened with the session, not with the token: its
// URL carries the session's CSRF token in the query parameter
// qlik-csrf-token, the upgrade request carries the session cookie, and no
// Authorization header (the QSEoW proxy is reported to refuse one on the
// upgrade). The helpers below return the URL and the headers; pass both to
// any WebSocket client, for example
//
//	conn, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, header) // github.com/gorilla/websocket
//	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: header}) // github.com/coder/websocket

// EngineWebSocket returns the URL and headers that open the engine
// WebSocket of the app appID in the session:
// wss://<tenant>/app/<appId>?qlik-csrf-token=<token> with the session
// cookies. It logs in and fetches the CSRF token first when needed. The
// caller owns the returned header.
func (s *Cloud) EngineWebSocket(ctx context.Context, appID string) (wsURL string, header http.Header, err error) {
	if appID == "" {
		return "", nil, fmt.Errorf("%w: the app ID is empty", ErrSession)
	}
	st, err := s.ensure(ctx, true)
	if err != nil {
		return "", nil, err
	}
	wsURL, header = engineWebSocket(s.tenant, appID, st.csrf, st.jar.Cookies(s.tenant), false)
	return wsURL, header, nil
}

// EngineWebSocket returns the URL and headers that open the engine
// WebSocket of the app appID through the transport's virtual proxy:
// wss://<host>/<prefix>/app/<appId>?qlik-csrf-token=<token>, with the
// session cookie and an Origin of the server itself. It first calls
// GET <proxy>/qps/csrftoken through t, which opens the proxy session if
// there is none and returns its CSRF token; a refusal is a [*QlikError]. The
// caller owns the returned header.
func (t *QSEoWTransport) EngineWebSocket(ctx context.Context, appID string) (wsURL string, header http.Header, err error) {
	if appID == "" {
		return "", nil, fmt.Errorf("%w: the app ID is empty", ErrSession)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.proxy.JoinPath("qps", "csrftoken").String(), nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := t.RoundTrip(req)
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode/100 != 2 {
		return "", nil, readQlikError("csrf-token", resp)
	}
	resp.Body.Close()
	csrf := resp.Header.Get("qlik-csrf-token")
	if csrf == "" {
		return "", nil, &QlikError{Op: "csrf-token", Method: req.Method, URL: req.URL.String(), StatusCode: resp.StatusCode,
			Detail: "the answer had no qlik-csrf-token header"}
	}
	wsURL, header = engineWebSocket(t.proxy, appID, csrf, t.Cookies(), true)
	return wsURL, header, nil
}

// engineWebSocket builds the URL and headers of the engine WebSocket of
// appID under base.
func engineWebSocket(base *url.URL, appID, csrf string, cookies []*http.Cookie, origin bool) (string, http.Header) {
	ws := *base
	ws.Scheme = map[string]string{"https": "wss", "http": "ws"}[base.Scheme]
	ws = *ws.JoinPath("app", appID)
	ws.RawQuery = url.Values{"qlik-csrf-token": {csrf}}.Encode()
	h := http.Header{}
	pairs := make([]string, 0, len(cookies))
	for _, c := range cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	if len(pairs) > 0 {
		h.Set("Cookie", strings.Join(pairs, "; "))
	}
	if origin {
		h.Set("Origin", base.Scheme+"://"+base.Host)
	}
	return ws.String(), h
}
