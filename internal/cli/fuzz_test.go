package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzParseExpires: --expires never panics, and what it accepts is a
// positive whole number of seconds; a bare number is always refused.
func FuzzParseExpires(f *testing.F) {
	for _, s := range []string{"90s", "15m", "1h30m", "2d", "1w", "1y", "3600", "0s", "-5m", "1.5h", "9999999999999y", "", "m", "1h1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseExpires(s)
		if err != nil {
			assert.Zero(t, d)
			return
		}
		assert.Positive(t, d, "%q", s)
		assert.Zero(t, d%1e9, "%q gives whole seconds", s)
		assert.NotRegexp(t, `^[0-9]+$`, s, "a bare number must be refused")
	})
}
