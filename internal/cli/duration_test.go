package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExpires(t *testing.T) {
	const day = 24 * time.Hour
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"1h", time.Hour},
		{"1h30m", 90 * time.Minute},
		{"2d", 2 * day},
		{"1w", 7 * day},
		{"1y", 365 * day},
		{"5y", 5 * 365 * day},
		{"1d12h", 36 * time.Hour},
		{"1h0m1s", time.Hour + time.Second},
		{"007m", 7 * time.Minute},
		{"290y", 290 * 365 * day},
	}
	for _, c := range ok {
		got, err := parseExpires(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}

	bad := []struct{ in, why string }{
		{"", "empty"},
		{"3600", `"3600" has no unit; give one, e.g. 3600s or 60m (the Node tool read bare numbers as milliseconds)`},
		{"90", `e.g. 90s (the Node`},
		{"0", "no unit"},
		{"0s", "is zero"},
		{"0h0m", "is zero"},
		{"-5m", "is negative"},
		{"-3600", "is negative"},
		{"+5m", "not a number with a unit"},
		{"1.5h", "fraction"},
		{"5x", `unknown unit "x"`},
		{"5M", `unknown unit "M"`},
		{"5ms", "not a number with a unit"},
		{"m", "not a number with a unit"},
		{"1h30", "not a number with a unit"},
		{"1h 30m", "not a number with a unit"}, {"5 m", `unknown unit " "`},
		{"300y", "too long"},
		{"99999999999999999999s", "too long"},
		{"9223372037s", "too long"},
		{"292y1y", "too long"},
	}
	for _, c := range bad {
		_, err := parseExpires(c.in)
		require.Error(t, err, c.in)
		assert.Contains(t, err.Error(), c.why, c.in)
	}
}
