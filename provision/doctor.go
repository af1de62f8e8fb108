package provision

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"time"
)

// Causes a [Check] names. They are stable: programs may match on them.
const (
	CauseToken              = "token"                       // the token could not be made from the key and flags
	CauseUnreachable        = "unreachable"                 // no answer: URL, DNS, TLS or network
	CauseMissingClaim       = "missing-claim"               // INTERNAL-TOKEN-1, or a claim the virtual proxy reads is absent
	CauseUnknownKeyID       = "unknown-kid"                 // no identity provider has the token's kid
	CauseIssuer             = "issuer-mismatch"             // iss is not the identity provider's issuer
	CauseAudience           = "audience-mismatch"           // aud is not the virtual proxy's JWT audience
	CauseWrongKey           = "wrong-key"                   // the signature does not verify with the configured certificate
	CauseClockSkew          = "clock-skew"                  // expired or not yet valid: the clocks disagree
	CauseEmailHidden        = "email-hidden"                // email_verified false: Qlik hides the e-mail address
	CauseGroupsMissing      = "groups-missing"              // groups sent but not on the user
	CauseNoVirtualProxy     = "virtual-proxy-missing"       // no linked virtual proxy serves the prefix
	CauseNotLinkedToCentral = "proxy-not-linked-to-central" // /qps/csrftoken answers 400
	CauseHostAllowList      = "host-allow-list"             // 403: the Origin's host is not allowed
	CauseWebSocketCrossSite = "websocket-cross-site"        // WebSocket refused: cookie, CSRF token, Origin or a Bearer header
	CauseTooManySessions    = "too-many-sessions"           // OnMaxParallelSessionsExceeded
	CauseRateLimited        = "rate-limited"                // 429: too many logins a minute
	CauseOther              = "other"
)

// Check is one step of a doctor's login, passed or failed with its cause
// and the fix. Details never hold a token, cookie or CSRF token.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"` // not run: an earlier check failed
	Cause   string `json:"cause,omitempty"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// Report is a doctor's result: every check in order, and OK when all passed.
type Report struct {
	Variant string  `json:"variant"` // "cloud" or "qseow"
	URL     string  `json:"url"`
	OK      bool    `json:"ok"`
	Checks  []Check `json:"checks"`
}

func (r *Report) pass(name, detail string) {
	r.Checks = append(r.Checks, Check{Name: name, OK: true, Detail: detail})
}

func (r *Report) fail(name, cause, detail, fix string) {
	r.Checks = append(r.Checks, Check{Name: name, Cause: cause, Detail: detail, Fix: fix})
}

// skip records the checks that could not run after a failure.
func (r *Report) skip(names ...string) {
	for _, n := range names {
		r.Checks = append(r.Checks, Check{Name: n, Skipped: true, Detail: "not run: an earlier check failed"})
	}
}

func (r *Report) finish() Report {
	r.OK = len(r.Checks) > 0
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
	return *r
}

// doctorClient copies base with a fresh cookie jar and no redirects, so that
// every answer is seen as Qlik sent it.
func doctorClient(base *http.Client) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	jar, _ := cookiejar.New(nil)
	c := *base
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// answer is a response read whole (bounded), with Qlik's error when it is one.
type answer struct {
	status int
	header http.Header
	err    *APIError
}

func send(c *http.Client, req *http.Request) (*answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, scrubURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return &answer{status: resp.StatusCode, header: resp.Header}, nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a := &answer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode/100 != 2 {
		a.err = apiError(req.Method, req.URL.Path, resp.StatusCode, data)
	}
	return a, nil
}

// websocketRequest is an engine WebSocket upgrade request (RFC 6455).
func websocketRequest(ctx context.Context, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	k := make([]byte, 16)
	_, _ = rand.Read(k)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(k))
	return req, nil
}

// http1Only returns a client whose transport speaks HTTP/1.1 only: a
// WebSocket upgrade cannot go over HTTP/2.
func http1Only(c *http.Client) *http.Client {
	tr, ok := c.Transport.(*http.Transport)
	if c.Transport == nil {
		tr, ok = http.DefaultTransport.(*http.Transport), true
	}
	if !ok {
		return c
	}
	tr = tr.Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	cc := *c
	cc.Transport = tr
	return &cc
}

// classify names the cause and fix of a refused token from Qlik's answer.
// clock is what the server's Date says of the local clock.
func classify(a *answer, variant, keyID, clock string) (cause, fix string) {
	// Compiled here, once per refused login, not at package level, where
	// they would cost every program that imports provision (qs-jwt's every
	// command) at start.
	reIssuer := regexp.MustCompile(`\biss\b|issuer`)
	reAudience := regexp.MustCompile(`\baud\b|audience`)
	reTime := regexp.MustCompile(`\b(exp|nbf|iat)\b|expired|not (yet )?valid|clock|lifetime`)
	text := ""
	if a.err != nil {
		text = strings.ToLower(a.err.Code + " " + a.err.Title + " " + a.err.Detail)
	}
	switch {
	case a.status == http.StatusTooManyRequests:
		return CauseRateLimited, "Qlik Cloud allows 100 logins a minute: log in once per user and keep the session cookies"
	case strings.Contains(text, "missing required claim: aud"):
		return CauseAudience, "the virtual proxy has a JWT audience: give it with --audience (or clear the proxy's JWT audience)"
	case strings.Contains(text, "missing required claim"):
		return CauseMissingClaim, "send every claim Qlik requires (INTERNAL-TOKEN-1 names the missing one); qsjwt's builders send them all"
	case strings.Contains(text, "kid"):
		return CauseUnknownKeyID, fmt.Sprintf("no active JWT identity provider has key ID %q: give --keyid as set on the identity provider, or run qs-jwt setup cloud --keyid %s", keyID, keyID)
	case reIssuer.MatchString(text):
		return CauseIssuer, "give --issuer exactly as the identity provider's issuer (case, scheme and trailing slash count)"
	case reAudience.MatchString(text):
		return CauseAudience, "give --audience exactly as the virtual proxy's JWT audience, or none when it has none"
	case strings.Contains(text, "signature") || strings.Contains(text, "alg"):
		if variant == "cloud" {
			return CauseWrongKey, "the identity provider's certificate is not this key's: set it up with the certificate of this key (qs-jwt setup cloud --cert-file)"
		}
		return CauseWrongKey, "the virtual proxy's JWT certificate is not this key's: qs-jwt setup qseow --cert-file with this key's certificate"
	case reTime.MatchString(text):
		return CauseClockSkew, "the clocks of this machine and Qlik disagree" + clock + ": synchronise both with NTP; Qlik Cloud allows clockToleranceSec (5 s by default)"
	case strings.Contains(text, "claim") || strings.Contains(text, "attribute"):
		return CauseMissingClaim, "the token lacks a claim the virtual proxy reads: give --userid-claim and --userdir-claim as its JWT attributes for user ID and user directory"
	case strings.Contains(text, "session") || strings.Contains(text, "parallel"):
		return CauseTooManySessions, "the user has the most sessions QSEoW allows (5, OnMaxParallelSessionsExceeded): reuse the session cookie instead of logging in per call, or wait for sessions to time out"
	case strings.Contains(text, "origin") || strings.Contains(text, "allow list"):
		return CauseHostAllowList, "add the calling host to the virtual proxy's host allow list: qs-jwt setup qseow --allow-host HOST"
	}
	return CauseOther, "see the detail; qs-jwt decode --variant " + variant + " explains a token"
}

// clockOffset describes how far the local clock is from the server's Date.
func clockOffset(h http.Header, now func() time.Time) string {
	d, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return ""
	}
	if now == nil {
		now = time.Now
	}
	off := now().Sub(d).Round(time.Second)
	if off > -2*time.Second && off < 2*time.Second {
		return " (the server's Date agrees with this clock: check the token's lifetime and the tolerance)"
	}
	return fmt.Sprintf(" (this clock is %v off the server's Date)", off)
}

// detail describes a refusal without any secret.
func detail(a *answer) string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("HTTP %d", a.status)
}

// cookieNames lists the cookies the jar holds for u, by name only.
func cookieNames(c *http.Client, req *http.Request) string {
	var names []string
	for _, ck := range c.Jar.Cookies(req.URL) {
		names = append(names, ck.Name)
	}
	return strings.Join(names, ", ")
}
