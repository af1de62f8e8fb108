package provision

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// QSEoWDoctor is what [DoctorQSEoW] logs in with.
type QSEoWDoctor struct {
	// ServerURL is https://<proxy host>; Prefix the virtual proxy's prefix.
	// Client makes the calls (nil means http.DefaultClient).
	ServerURL, Prefix string
	Client            *http.Client
	// Signer makes the token for User, with the claim names and audience
	// the virtual proxy reads ("" means qsjwt's defaults) and Algorithm
	// ("" means RS256).
	Signer                                                 qsjwt.Signer
	User                                                   qsjwt.QSEoWUser
	UserIDClaim, UserDirectoryClaim, GroupsClaim, Audience string
	Algorithm                                              string
	// Origin is what the WebSocket upgrade sends; "" means the server's own
	// origin. A mashup's origin tests the host allow list.
	Origin string
	// AppID is the engine WebSocket's target; "" means "engineData".
	AppID string
	// Now is the tokens' clock; nil means time.Now.
	Now func() time.Time
}

// DoctorQSEoW logs in through a QSEoW virtual proxy for real with a token
// made from the key: a Bearer call (which opens the session), the session
// cookie, GET /qps/csrftoken with the cookie alone, and the engine WebSocket
// upgrade with the cookie, the CSRF token and an allowed Origin and no
// Bearer header. Each failure names its cause and the fix. It never returns
// an error: a failure is a failed check.
func DoctorQSEoW(ctx context.Context, d QSEoWDoctor) Report {
	base := strings.TrimRight(d.ServerURL, "/")
	prefix := strings.Trim(d.Prefix, "/")
	vp := base + "/" + prefix
	if prefix == "" {
		vp = base
	}
	r := &Report{Variant: "qseow", URL: vp}
	later := []string{"session-cookie", "csrf-token", "websocket"}
	c := doctorClient(d.Client)

	tok, err := qseowToken(ctx, d)
	if err != nil {
		r.fail("token", CauseToken, err.Error(), "fix the key or claim flag the error names")
		r.skip(append([]string{"bearer"}, later...)...)
		return r.finish()
	}
	r.pass("token", fmt.Sprintf("token for %s\\%s", d.User.UserDirectory, d.User.UserID))

	key := xrfkey()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, vp+"/qps/user?xrfkey="+key, nil)
	if err != nil {
		r.fail("bearer", CauseUnreachable, "the server URL is not a URL", "give --server as https://<proxy host>")
		r.skip(later...)
		return r.finish()
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Qlik-Xrfkey", key)
	a, err := send(c, req)
	switch {
	case err != nil:
		r.fail("bearer", CauseUnreachable, "GET /"+prefix+"/qps/user: "+err.Error(), "check --server and, for the site's own CA, --ca-file")
	case a.status == http.StatusNotFound:
		r.fail("bearer", CauseNoVirtualProxy, detail(a), fmt.Sprintf("no linked virtual proxy serves /%s/: qs-jwt setup qseow --prefix %s, or check --prefix", prefix, prefix))
	case a.status != http.StatusOK:
		cause, fix := classify(a, "qseow", "", clockOffset(a.header, d.Now))
		r.fail("bearer", cause, detail(a), fix)
	default:
		r.pass("bearer", "GET /"+prefix+"/qps/user with Authorization: Bearer: 200")
	}
	if !r.Checks[len(r.Checks)-1].OK {
		r.skip(later...)
		return r.finish()
	}

	if names := cookieNames(c, req); names == "" {
		r.fail("session-cookie", CauseOther, "the proxy set no session cookie", "check the virtual proxy's session cookie header name and domain")
		r.skip(later[1:]...)
		return r.finish()
	} else {
		r.pass("session-cookie", "session cookie "+names)
	}

	key = xrfkey()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, vp+"/qps/csrftoken?xrfkey="+key, nil)
	req.Header.Set("X-Qlik-Xrfkey", key)
	a, err = send(c, req)
	var csrf string
	switch {
	case err != nil:
		r.fail("csrf-token", CauseUnreachable, "GET /"+prefix+"/qps/csrftoken: "+err.Error(), "")
	case a.status == http.StatusBadRequest:
		r.fail("csrf-token", CauseNotLinkedToCentral, detail(a),
			"link the virtual proxy to the central node's proxy service (qs-jwt setup qseow links every proxy service)")
	case a.status != http.StatusOK:
		r.fail("csrf-token", CauseOther, detail(a), "")
	default:
		if csrf = a.header.Get("qlik-csrf-token"); csrf == "" {
			r.fail("csrf-token", CauseOther, "no qlik-csrf-token header", "the site needs the November 2024 release or later for the engine CSRF token")
		} else {
			r.pass("csrf-token", "GET /"+prefix+"/qps/csrftoken with the cookie: the qlik-csrf-token header is set")
		}
	}
	if !r.Checks[len(r.Checks)-1].OK {
		r.skip("websocket")
		return r.finish()
	}

	app := d.AppID
	if app == "" {
		app = "engineData"
	}
	origin := d.Origin
	if origin == "" {
		if u, err := url.Parse(base); err == nil {
			origin = u.Scheme + "://" + u.Host
		}
	}
	ws, err := websocketRequest(ctx, vp+"/app/"+url.PathEscape(app)+"?qlik-csrf-token="+url.QueryEscape(csrf))
	if err == nil {
		ws.Header.Set("Origin", origin)
		a, err = send(http1Only(c), ws)
	}
	switch {
	case err != nil:
		r.fail("websocket", CauseUnreachable, "the engine WebSocket upgrade: "+err.Error(), "check that proxies between here and Qlik pass WebSocket upgrades")
	case a.status == http.StatusSwitchingProtocols:
		r.pass("websocket", fmt.Sprintf("GET /%s/app/%s with the cookie, the CSRF token and Origin %s: 101 Switching Protocols", prefix, app, origin))
	case a.status == http.StatusForbidden && a.err != nil && strings.Contains(strings.ToLower(a.err.Detail), "origin"):
		_, host, _ := strings.Cut(origin, "://")
		r.fail("websocket", CauseHostAllowList, detail(a), fmt.Sprintf("add %s to the virtual proxy's host allow list: qs-jwt setup qseow --allow-host %s", host, host))
	default:
		r.fail("websocket", CauseWebSocketCrossSite, detail(a),
			"the cross-site WebSocket check wants the session cookie, ?qlik-csrf-token= from /qps/csrftoken, an allowed Origin and no Authorization header")
	}
	return r.finish()
}
