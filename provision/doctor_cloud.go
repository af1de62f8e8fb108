package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// CloudDoctor is what [DoctorCloud] logs in with.
type CloudDoctor struct {
	// TenantURL is https://<tenant>; Client makes the calls (nil means
	// http.DefaultClient; give one that trusts a test CA for an emulator).
	TenantURL string
	Client    *http.Client
	// Signer, Issuer and KeyID make the token, for User.
	Signer        qsjwt.Signer
	Issuer, KeyID string
	User          qsjwt.CloudUser
	// AppID is the engine WebSocket's target; "" means "engineData" (a
	// session without an app).
	AppID string
	// Now is the tokens' clock; nil means time.Now.
	Now func() time.Time
}

// DoctorCloud logs in to a Qlik Cloud tenant for real with a token made from
// the key: POST /login/jwt-session, GET /api/v1/users/me, the CSRF token and
// the engine WebSocket upgrade. Each failure names its cause and the fix.
// It never returns an error: a failure is a failed check.
func DoctorCloud(ctx context.Context, d CloudDoctor) Report {
	base := strings.TrimRight(d.TenantURL, "/")
	r := &Report{Variant: "cloud", URL: base}
	later := []string{"session", "email", "groups", "csrf-token", "websocket"}
	c := doctorClient(d.Client)

	tok, err := cloudToken(ctx, d)
	if err != nil {
		r.fail("token", CauseToken, err.Error(), "fix the key or claim flag the error names")
		r.skip(append([]string{"login"}, later...)...)
		return r.finish()
	}
	r.pass("token", fmt.Sprintf("RS256 token for sub %q, issuer %q, key ID %q", d.User.Subject, d.Issuer, d.KeyID))

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login/jwt-session", nil)
	if err != nil {
		r.fail("login", CauseUnreachable, "the tenant URL is not a URL", "give --tenant as https://<tenant host>")
		r.skip(later...)
		return r.finish()
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	a, err := send(c, req)
	switch {
	case err != nil:
		r.fail("login", CauseUnreachable, "POST /login/jwt-session: "+err.Error(), "check --tenant and, for a private CA, --ca-file")
	case a.status != http.StatusOK:
		cause, fix := classify(a, "cloud", d.KeyID, clockOffset(a.header, d.Now))
		r.fail("login", cause, detail(a), fix)
	default:
		r.pass("login", "POST /login/jwt-session: 200; cookies "+cookieNames(c, req))
	}
	if !r.Checks[len(r.Checks)-1].OK {
		r.skip(later...)
		return r.finish()
	}

	var me struct {
		ID, Subject, Email string
		Groups             []string
		AssignedGroups     []struct{ Name string } `json:"assignedGroups"`
	}
	ok := cloudGet(ctx, c, r, "session", base+"/api/v1/users/me", &me, nil)
	if !ok {
		r.skip(later[1:]...)
		return r.finish()
	}
	r.pass("session", fmt.Sprintf("GET /api/v1/users/me: user %s, subject %q", me.ID, me.Subject))

	if d.User.EmailVerified {
		r.pass("email", "email_verified is true: Qlik shows the e-mail address")
	} else {
		r.fail("email", CauseEmailHidden, "the token says email_verified false: Qlik Cloud hides the user's e-mail address",
			"send email_verified true (--useremail-verified) when your system has verified the address")
	}

	have := slices.Clone(me.Groups)
	for _, g := range me.AssignedGroups {
		have = append(have, g.Name)
	}
	var missing []string
	for _, g := range d.User.Groups {
		if !slices.Contains(have, g) {
			missing = append(missing, g)
		}
	}
	switch {
	case len(d.User.Groups) == 0:
		r.pass("groups", "the token sends no groups")
	case len(missing) > 0:
		r.fail("groups", CauseGroupsMissing, fmt.Sprintf("the token sends groups %s but the user has none of %s", strings.Join(d.User.Groups, ", "), strings.Join(missing, ", ")),
			"turn group creation at login on (qs-jwt setup cloud --auto-create-groups, or PATCH /api/v1/groups/settings autoCreateGroups true); the claim must be \"groups\", not \"group\"")
	default:
		r.pass("groups", "the user has the groups "+strings.Join(d.User.Groups, ", "))
	}

	var csrf string
	if !cloudGet(ctx, c, r, "csrf-token", base+"/api/v1/csrf-token", nil, &csrf) {
		r.skip("websocket")
		return r.finish()
	}
	r.pass("csrf-token", "GET /api/v1/csrf-token: the qlik-csrf-token header is set")

	app := d.AppID
	if app == "" {
		app = "engineData"
	}
	ws, err := websocketRequest(ctx, base+"/app/"+url.PathEscape(app)+"?qlik-csrf-token="+url.QueryEscape(csrf))
	if err == nil {
		a, err = send(http1Only(c), ws)
	}
	switch {
	case err != nil:
		r.fail("websocket", CauseUnreachable, "the engine WebSocket upgrade: "+err.Error(), "check that proxies between here and Qlik pass WebSocket upgrades")
	case a.status != http.StatusSwitchingProtocols:
		r.fail("websocket", CauseWebSocketCrossSite, "the engine WebSocket upgrade: "+detail(a),
			"send the session cookies and ?qlik-csrf-token= from GET /api/v1/csrf-token; a proxy in between must pass Upgrade headers")
	default:
		r.pass("websocket", "GET /app/"+app+": 101 Switching Protocols")
	}
	return r.finish()
}

// cloudGet GETs u with the session, decoding JSON into out or reading the
// qlik-csrf-token header into csrf, and records a failed check; it reports
// success without recording it.
func cloudGet(ctx context.Context, c *http.Client, r *Report, name, u string, out any, csrf *string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		r.fail(name, CauseOther, err.Error(), "")
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		r.fail(name, CauseUnreachable, "GET "+req.URL.Path+": "+scrubURLError(err).Error(), "check the network path to the tenant")
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		r.fail(name, CauseOther, fmt.Sprintf("GET %s: HTTP %d after a successful login", req.URL.Path, resp.StatusCode),
			"keep every cookie /login/jwt-session set (a proxy or client that drops cookies loses the session)")
		return false
	}
	if csrf != nil {
		if *csrf = resp.Header.Get("qlik-csrf-token"); *csrf == "" {
			r.fail(name, CauseOther, "GET "+req.URL.Path+": no qlik-csrf-token header", "a proxy in between must pass the qlik-csrf-token header")
			return false
		}
	}
	if out != nil && json.NewDecoder(resp.Body).Decode(out) != nil {
		r.fail(name, CauseOther, "GET "+req.URL.Path+": the answer is not JSON", "")
		return false
	}
	return true
}
