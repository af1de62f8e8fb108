package cli

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on its first use, not when
// the program starts. A package-level regexp.MustCompile runs before main
// for every command, on every start: qs-jwt's patterns cost about 0.3 ms and
// 1,600 allocations there, a tenth of a create command
// (GODEBUG=inittrace=1), though most of them serve only error messages.
// Declare one as a value, so that nothing runs at init:
//
//	var flagLike = lazyRegexp{expr: `^[A-Za-z][A-Za-z0-9-]{0,31}$`}
type lazyRegexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// MatchString reports whether s contains a match of the expression,
// compiling it on the first call; an invalid expression panics then, as
// regexp.MustCompile would have at start.
func (l *lazyRegexp) MatchString(s string) bool { return l.compiled().MatchString(s) }

// Match is MatchString for a byte slice.
func (l *lazyRegexp) Match(b []byte) bool { return l.compiled().Match(b) }

func (l *lazyRegexp) compiled() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}
