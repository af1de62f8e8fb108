package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationUnit gives the units --expires accepts; y is 365 days.
func durationUnit(c byte) (time.Duration, bool) {
	switch c {
	case 's':
		return time.Second, true
	case 'm':
		return time.Minute, true
	case 'h':
		return time.Hour, true
	case 'd':
		return 24 * time.Hour, true
	case 'w':
		return 7 * 24 * time.Hour, true
	case 'y':
		return 365 * 24 * time.Hour, true
	}
	return 0, false
}

// parseExpires reads a lifetime such as 90s, 15m, 1h30m, 2d, 1w or 1y: one
// or more whole numbers, each with a unit. A bare number is refused (the Node
// tool read "3600" as 3.6 seconds), as are zero, a sign, fractions and a sum
// that overflows. The error says what is wrong and gives an example.
func parseExpires(s string) (time.Duration, error) {
	const example = "e.g. 90s, 15m, 1h30m, 2d, 1w or 1y"
	switch {
	case s == "":
		return 0, fmt.Errorf("the lifetime is empty; give one, %s", example)
	case s[0] == '-':
		return 0, fmt.Errorf("the lifetime %q is negative; give a positive one, %s", s, example)
	case strings.Trim(s, "0123456789") == "":
		hint := s + "s"
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n%60 == 0 {
			hint += " or " + strconv.Itoa(n/60) + "m"
		}
		return 0, fmt.Errorf("the lifetime %q has no unit; give one, e.g. %s (the Node tool read bare numbers as milliseconds)", s, hint)
	}
	var total time.Duration
	for rest := s; rest != ""; {
		digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		if digits == 0 || digits == len(rest) {
			return 0, fmt.Errorf("the lifetime %q is not a number with a unit (s, m, h, d, w, y); %s", s, example)
		}
		unit, ok := durationUnit(rest[digits])
		if rest[digits] == '.' {
			return 0, fmt.Errorf("the lifetime %q has a fraction; use whole numbers, e.g. 1h30m or 90s", s)
		}
		if !ok {
			return 0, fmt.Errorf("the lifetime %q has unknown unit %q; use s, m, h, d, w or y (365 days), %s", s, rest[digits:digits+1], example)
		}
		var n int64
		for _, c := range rest[:digits] {
			if n > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, fmt.Errorf("the lifetime %q is too long", s)
			}
			n = n*10 + int64(c-'0')
		}
		if n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("the lifetime %q is too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[digits+1:]
	}
	if total == 0 {
		return 0, fmt.Errorf("the lifetime %q is zero; give a positive one, %s", s, example)
	}
	return total, nil
}
