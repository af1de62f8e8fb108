package session

import (
	"fmt"
	"net/http"
	"time"
)

// CloudOption configures [NewCloud].
type CloudOption interface {
	applyCloud(*Cloud) error
}

// QSEoWOption configures [NewQSEoWTransport].
type QSEoWOption interface {
	applyQSEoW(*QSEoWTransport) error
}

// Option configures [NewCloud], [NewQSEoWTransport] and [NewOAuth], and
// the proxies and token handlers, which pass it on to the sessions they
// make (a token handler reads only the clock).
type Option interface {
	CloudOption
	QSEoWOption
	OAuthOption
	ProxyOption
	TokenHandlerOption
}

// common is what both clients are configured with.
type common struct {
	base         http.RoundTripper
	now          func() time.Time
	loginTimeout time.Duration
}

func (c *common) transport() http.RoundTripper {
	if c.base != nil {
		return c.base
	}
	return http.DefaultTransport
}

func defaults() common { return common{now: time.Now, loginTimeout: DefaultLoginTimeout} }

// option is an Option; a struct, so that options print and compare by name.
type option struct {
	name string
	fn   func(*common) error
}

func (o option) applyCloud(s *Cloud) error               { return o.fn(&s.common) }
func (o option) applyQSEoW(t *QSEoWTransport) error      { return o.fn(&t.common) }
func (o option) String() string                          { return o.name }
func (o cloudOption) applyCloud(s *Cloud) error          { return o.fn(s) }
func (o cloudOption) String() string                     { return o.name }
func (o qseowOption) applyQSEoW(t *QSEoWTransport) error { return o.fn(t) }
func (o qseowOption) String() string                     { return o.name }

type cloudOption struct {
	name string
	fn   func(*Cloud) error
}

type qseowOption struct {
	name string
	fn   func(*QSEoWTransport) error
}

// WithBaseTransport sets the transport that sends the requests, including
// logins and CSRF fetches; nil means http.DefaultTransport.
func WithBaseTransport(rt http.RoundTripper) Option {
	return option{fmt.Sprintf("WithBaseTransport(%T)", rt), func(c *common) error { c.base = rt; return nil }}
}

// WithClock sets the clock that back-off, the login budget, token freshness
// and the session inactivity timeout are measured with; nil means time.Now.
// Give the clock of the token builder (qsjwt.WithClock) when it has one.
func WithClock(now func() time.Time) Option {
	return option{"WithClock", func(c *common) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithLoginTimeout bounds a login of a [Cloud] (token, POST and answer) and
// its CSRF token fetches, which run detached from any one caller's context:
// each caller still leaves at its own deadline, and the shared login
// carries on for the others. For a [QSEoWTransport] it bounds how long
// requests wait for the request that opens the session before one of them
// goes alone instead. 0 means [DefaultLoginTimeout].
func WithLoginTimeout(d time.Duration) Option {
	return option{fmt.Sprintf("WithLoginTimeout(%s)", d), func(c *common) error {
		switch {
		case d < 0:
			return fmt.Errorf("%w: WithLoginTimeout(%s): give a positive duration, or 0 for the default %s", ErrSession, d, DefaultLoginTimeout)
		case d == 0:
			c.loginTimeout = DefaultLoginTimeout
		default:
			c.loginTimeout = d
		}
		return nil
	}}
}

// WithLoginBudget shares b, the tenant's login budget, with the session:
// give every [Cloud] of one tenant in the process the same budget, so that
// together they stay under the tenant's login rate limit. Nil means no
// budget.
func WithLoginBudget(b *LoginBudget) CloudOption {
	return cloudOption{"WithLoginBudget", func(s *Cloud) error { s.budget = b; return nil }}
}

// WithSessionTimeout sets the virtual proxy's session inactivity timeout
// (its "Session inactivity timeout"), after which the transport sends the
// next request alone; 0 means [DefaultQSEoWSessionTimeout].
func WithSessionTimeout(d time.Duration) QSEoWOption {
	return qseowOption{fmt.Sprintf("WithSessionTimeout(%s)", d), func(t *QSEoWTransport) error {
		switch {
		case d < 0:
			return fmt.Errorf("%w: WithSessionTimeout(%s): give the virtual proxy's session inactivity timeout, or 0 for %s", ErrSession, d, DefaultQSEoWSessionTimeout)
		case d == 0:
			t.sessionTimeout = DefaultQSEoWSessionTimeout
		default:
			t.sessionTimeout = d
		}
		return nil
	}}
}
