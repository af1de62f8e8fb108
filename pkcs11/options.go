package pkcs11

import "fmt"

// Option configures [Open].
type Option interface{ apply(*config) }

type config struct {
	pinEnv      string
	pin         *string
	modulePath  string
	maxSessions int
}

type pinEnvOption string

func (o pinEnvOption) apply(c *config) { c.pinEnv = string(o) }

// WithPINEnv reads the PIN from the environment variable name when the key
// is opened (and keeps it to log in again after a token restart). Errors
// name the variable, never its value.
func WithPINEnv(name string) Option { return pinEnvOption(name) }

type pinOption struct{ pin string }

func (o pinOption) apply(c *config) { c.pin = &o.pin }

// Format prints the option's name, never the PIN.
func (pinOption) Format(f fmt.State, _ rune) { fmt.Fprint(f, "pkcs11.WithPIN([redacted])") }

// WithPIN gives the PIN directly, for a program that got it from a secret
// store. It never prints.
func WithPIN(pin string) Option { return pinOption{pin: pin} }

type modulePathOption string

func (o modulePathOption) apply(c *config) { c.modulePath = string(o) }

// WithModulePath names the PKCS #11 library when the URI has no
// module-path; a module-path in the URI must agree with it.
func WithModulePath(path string) Option { return modulePathOption(path) }

type maxSessionsOption int

func (o maxSessionsOption) apply(c *config) { c.maxSessions = int(o) }

// WithMaxSessions caps the sessions a Key opens at once (default
// [DefaultMaxSessions]); a signing call waits for a free one, or for its
// ctx to end.
func WithMaxSessions(n int) Option { return maxSessionsOption(n) }

// DefaultMaxSessions is how many signing calls a Key runs on the token at
// once unless [WithMaxSessions] says otherwise.
const DefaultMaxSessions = 4
