package session

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults of [NewCloudProxy] and [NewQSEoWProxy].
const (
	// DefaultMaxRequestBody is the largest request body the proxy forwards.
	DefaultMaxRequestBody = 1 << 20
	// DefaultMaxRequestURL is the longest path and query it forwards.
	DefaultMaxRequestURL = 8 << 10
	// DefaultIdleTimeout is how long a user's session is kept unused.
	DefaultIdleTimeout = 20 * time.Minute
	// DefaultMaxUsers is how many users' sessions it keeps at once; the one
	// unused the longest makes room for a new user.
	DefaultMaxUsers = 10000
)

// DefaultCloudPaths are the requests a Qlik Cloud [Proxy] forwards unless
// [WithAllowedPaths] says otherwise: reading the user, items, spaces and
// apps, and the engine WebSocket. Patterns are those of [http.ServeMux]
// ("GET" also admits HEAD; a trailing slash admits the subtree).
var DefaultCloudPaths = []string{
	"GET /api/v1/users/me",
	"GET /api/v1/items", "GET /api/v1/items/",
	"GET /api/v1/spaces", "GET /api/v1/spaces/",
	"GET /api/v1/apps/",
	"GET /app/{appId}",
}

// DefaultQSEoWPaths are the requests a QSEoW [Proxy] forwards unless
// [WithAllowedPaths] says otherwise, under the virtual proxy's prefix: the
// proxy's user, reading the repository's apps and its build, and the engine
// WebSocket.
var DefaultQSEoWPaths = []string{
	"GET /qps/user",
	"GET /qrs/about",
	"GET /qrs/app", "GET /qrs/app/",
	"GET /app/{appId}",
}

// ProxyOption configures [NewCloudProxy] and [NewQSEoWProxy]. Every
// [Option] (WithBaseTransport, WithClock, WithLoginTimeout) is one: the
// proxy passes it to each user's session, and measures idle time with the
// clock.
type ProxyOption interface {
	applyProxy(*proxyConfig) error
}

// proxyConfig is what a Proxy is configured with.
type proxyConfig struct {
	common
	origins   []string
	paths     []string // nil: the defaults of the kind
	maxBody   int64
	maxURL    int
	idle      time.Duration
	maxUsers  int
	cloudOpts []CloudOption
	qseowOpts []QSEoWOption
}

func (o option) applyProxy(c *proxyConfig) error { return o.fn(&c.common) }

type proxyOption struct {
	name string
	fn   func(*proxyConfig) error
}

func (o proxyOption) applyProxy(c *proxyConfig) error { return o.fn(c) }
func (o proxyOption) String() string                  { return o.name }

// WithAllowedPaths replaces the requests the proxy forwards: patterns as
// [http.ServeMux] reads them, with the path as Qlik sees it (for QSEoW,
// under the virtual proxy's prefix), e.g. "GET /api/v1/users/me",
// "POST /api/v1/reloads", "GET /api/v1/apps/{appId}/data/metadata". Any
// other request is answered 404 without reaching Qlik.
func WithAllowedPaths(patterns ...string) ProxyOption {
	return proxyOption{"WithAllowedPaths", func(c *proxyConfig) error {
		if len(patterns) == 0 {
			return fmt.Errorf("%w: WithAllowedPaths(): give at least one pattern, such as %q", ErrSession, DefaultCloudPaths[0])
		}
		if err := checkPatterns(patterns); err != nil {
			return err
		}
		c.paths = append([]string(nil), patterns...)
		return nil
	}}
}

// checkPatterns refuses patterns http.ServeMux would panic on.
func checkPatterns(patterns []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: WithAllowedPaths: %v", ErrSession, r)
		}
	}()
	mux := http.NewServeMux()
	for _, p := range patterns {
		if _, path, _ := strings.Cut(p, " "); !strings.HasPrefix(p, "/") && !strings.HasPrefix(path, "/") {
			return fmt.Errorf("%w: WithAllowedPaths(%q): give a method and an absolute path, such as \"GET /api/v1/users/me\"", ErrSession, p)
		}
		mux.Handle(p, http.NotFoundHandler())
	}
	return nil
}

// WithAllowedOrigins names origins, besides the request's own (https://
// and its Host when it came over TLS, else http://), whose pages may make
// requests that act for the user: anything but GET, and the engine
// WebSocket. Give the site's public origin (e.g. "https://www.example.com")
// when a front end ends TLS or renames the host.
func WithAllowedOrigins(origins ...string) SiteOption {
	return siteOption{"WithAllowedOrigins", func(o *[]string) error {
		for _, s := range origins {
			if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") || strings.Count(s, "/") != 2 {
				return fmt.Errorf("%w: WithAllowedOrigins(%q): an origin is scheme://host[:port], such as https://www.example.com, with no path", ErrSession, s)
			}
		}
		*o = append(*o, origins...)
		return nil
	}}
}

// SiteOption configures both [NewCloudProxy] and [NewQSEoWProxy] and the
// token handlers ([NewCloudTokenHandler], [NewQSEoWTokenHandler]).
type SiteOption interface {
	ProxyOption
	TokenHandlerOption
}

type siteOption struct {
	name string
	fn   func(*[]string) error
}

func (o siteOption) applyProxy(c *proxyConfig) error        { return o.fn(&c.origins) }
func (o siteOption) applyToken(c *tokenHandlerConfig) error { return o.fn(&c.origins) }
func (o siteOption) String() string                         { return o.name }

// WithMaxRequestBody sets the largest request body the proxy forwards (it
// holds the body in memory, so that a request can be sent again after a
// new login); a larger one is answered 413. 0 means
// [DefaultMaxRequestBody].
func WithMaxRequestBody(n int64) ProxyOption {
	return proxyOption{fmt.Sprintf("WithMaxRequestBody(%d)", n), func(c *proxyConfig) error {
		if n < 0 {
			return fmt.Errorf("%w: WithMaxRequestBody(%d): give a size in bytes, or 0 for %d", ErrSession, n, DefaultMaxRequestBody)
		}
		c.maxBody = cmpOr(n, DefaultMaxRequestBody)
		return nil
	}}
}

// WithIdleTimeout sets how long a user's session is kept without a request;
// then it is dropped, and the user's next request logs in again. Keep it
// below the tenant's or virtual proxy's own session timeout. 0 means
// [DefaultIdleTimeout].
func WithIdleTimeout(d time.Duration) ProxyOption {
	return proxyOption{fmt.Sprintf("WithIdleTimeout(%s)", d), func(c *proxyConfig) error {
		if d < 0 {
			return fmt.Errorf("%w: WithIdleTimeout(%s): give a positive duration, or 0 for %s", ErrSession, d, DefaultIdleTimeout)
		}
		c.idle = cmpOr(d, DefaultIdleTimeout)
		return nil
	}}
}

// WithMaxUsers bounds how many users' sessions the proxy keeps; when full,
// the session unused the longest is dropped for a new user. 0 means
// [DefaultMaxUsers].
func WithMaxUsers(n int) ProxyOption {
	return proxyOption{fmt.Sprintf("WithMaxUsers(%d)", n), func(c *proxyConfig) error {
		if n < 0 {
			return fmt.Errorf("%w: WithMaxUsers(%d): give a positive number, or 0 for %d", ErrSession, n, DefaultMaxUsers)
		}
		c.maxUsers = cmpOr(n, DefaultMaxUsers)
		return nil
	}}
}

// WithCloudSessionOptions gives options to each user's [Cloud] session of
// a [NewCloudProxy] proxy, after the proxy's own (the proxy gives every
// session one [LoginBudget] of [DefaultLoginsPerMinute] unless one is given
// here). [NewQSEoWProxy] refuses it.
func WithCloudSessionOptions(opts ...CloudOption) ProxyOption {
	return proxyOption{"WithCloudSessionOptions", func(c *proxyConfig) error { c.cloudOpts = append(c.cloudOpts, opts...); return nil }}
}

// WithQSEoWSessionOptions gives options (WithSessionTimeout) to each user's
// [QSEoWTransport] of a [NewQSEoWProxy] proxy. [NewCloudProxy] refuses it.
func WithQSEoWSessionOptions(opts ...QSEoWOption) ProxyOption {
	return proxyOption{"WithQSEoWSessionOptions", func(c *proxyConfig) error { c.qseowOpts = append(c.qseowOpts, opts...); return nil }}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
