package cli

// This file holds the few text shapes the command line recognises (a flag
// name, an environment variable's name, a path, a command, base64 or hex
// output). They are written by hand, not with package regexp: linking
// regexp links the Unicode tables of regexp/syntax, whose maps are built
// when the program starts, on every start of every command, whether or not
// a pattern is ever used (about 0.05 ms of a 3.5 ms create command). Each
// shape's test holds it to the regular expression in its comment.

// class is a set of ASCII bytes.
type class func(c byte) bool

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// isSpace is regexp's \s: tab, newline, form feed, carriage return, space.
func isSpace(c byte) bool { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// word is a shape ^[first][rest]{0,max}$ (max < 0: no limit).
type word struct {
	first, rest class
	max         int
}

// MatchString reports whether s has the shape.
func (w word) MatchString(s string) bool {
	if s == "" || !w.first(s[0]) || w.max >= 0 && len(s)-1 > w.max {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !w.rest(s[i]) {
			return false
		}
	}
	return true
}

var (
	// flagLike is an argument that can be repeated in an error: it looks
	// like a flag name, and is too short to be key material.
	//
	//	^[A-Za-z][A-Za-z0-9-]{0,31}$
	flagLike = word{isAlpha, func(c byte) bool { return isAlnum(c) || c == '-' }, 31}
	// echoable is a value short and plain enough to repeat in an error
	// about a flag that carries no secret.
	//
	//	^[A-Za-z0-9][A-Za-z0-9._:+-]{0,15}$
	echoable = word{isAlnum, func(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == ':' || c == '+' || c == '-' }, 15}
	// varNameRE is a conventional environment variable name: upper case,
	// digits and underscores. Only such a name is repeated when the
	// variable is missing, because a value given by mistake (a passphrase)
	// is rarely one.
	//
	//	^[A-Z_][A-Z0-9_]{0,63}$
	varNameRE = word{func(c byte) bool { return isUpper(c) || c == '_' }, func(c byte) bool { return isUpper(c) || isDigit(c) || c == '_' }, 63}
	// anyVarNameRE is any name a shell can export.
	//
	//	^[A-Za-z_][A-Za-z0-9_]*$
	anyVarNameRE = word{func(c byte) bool { return isAlpha(c) || c == '_' }, func(c byte) bool { return isAlnum(c) || c == '_' }, -1}
)

// commandLike is an unknown command that is repeated in the error: short,
// lower-case letters and hyphens, as commands are. Anything else is
// described, as it may be a secret given without its flag.
//
//	^-{0,2}[a-z][a-z-]{0,15}$
var commandLike = shapeFunc(func(s string) bool {
	for i := 0; i < 2 && len(s) > 0 && s[0] == '-'; i++ {
		s = s[1:]
	}
	return word{isLower, func(c byte) bool { return isLower(c) || c == '-' }, 15}.MatchString(s)
})

// pathLike is a value that reads as a path even when no such file exists:
// it has a directory separator or a file extension. A passphrase given by
// mistake rarely does; one that does not is described, not repeated.
//
//	[/\\]|\.[A-Za-z0-9]{1,5}$
var pathLike = shapeFunc(func(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == '\\' {
			return true
		}
	}
	n := 0
	for n < len(s) && n <= 5 && isAlnum(s[len(s)-1-n]) {
		n++
	}
	return 1 <= n && n <= 5 && n < len(s) && s[len(s)-1-n] == '.'
})

// base64Text is a signer's output that is base64 text, not raw bytes.
//
//	^[A-Za-z0-9+/_=\s-]+$
var base64Text = shapeFunc(func(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '+' && c != '/' && c != '_' && c != '=' && c != '-' && !isSpace(c) {
			return false
		}
	}
	return s != ""
})

// hexText is a signer's output that is hex text (pairs of hex digits,
// separated by white space or colons), not raw bytes.
//
//	^\s*(?:[0-9a-fA-F]{2}[\s:]*)+$
var hexText = shapeFunc(func(s string) bool {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	pairs := 0
	for i < len(s) {
		if i+1 >= len(s) || !isHex(s[i]) || !isHex(s[i+1]) {
			return false
		}
		i += 2
		pairs++
		for i < len(s) && (isSpace(s[i]) || s[i] == ':') {
			i++
		}
	}
	return pairs > 0
})

// shapeFunc is a shape that is not a word.
type shapeFunc func(s string) bool

// MatchString reports whether s has the shape.
func (f shapeFunc) MatchString(s string) bool { return f(s) }

// Match is MatchString for bytes.
func (f shapeFunc) Match(b []byte) bool { return f(string(b)) }
