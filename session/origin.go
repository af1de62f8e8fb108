package session

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// checkSameOrigin is the cross-site request forgery rule of [Proxy] and
// [TokenHandler]: a request that acts as the site's user must come from the
// site's own pages. It returns nil when the request's Origin header is the
// site's own origin (the scheme of the connection, https when r.TLS is set,
// and r.Host) or one of allowed; without Origin (browsers send it on every
// POST and WebSocket), only when Sec-Fetch-Site says same-origin. The error
// says what was seen and which option admits it.
func checkSameOrigin(r *http.Request, allowed []string) error {
	own := "http://" + r.Host
	if r.TLS != nil {
		own = "https://" + r.Host
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin == "" && r.Header.Get("Sec-Fetch-Site") == "same-origin":
		return nil
	case origin == "":
		return fmt.Errorf("the request has no Origin header: only the site's own pages, in a browser, may make it")
	case strings.EqualFold(origin, own) || slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, origin) }):
		return nil
	}
	return fmt.Errorf("the request comes from %s, not from this site (%s); behind a proxy that ends TLS or renames the host, give the site's public origin in WithAllowedOrigins", origin, own)
}

// crossSite reports whether a browser marked the request as made by another
// site (Sec-Fetch-Site: cross-site), as a link, an image or a form of a
// foreign page would be.
func crossSite(r *http.Request) bool { return r.Header.Get("Sec-Fetch-Site") == "cross-site" }
