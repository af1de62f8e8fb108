package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A value the user gives may be a secret, even where a name or a path is
// expected: a PEM key pasted into --cert-privatekey-env, a passphrase into
// --passphrase-env, a token into --jwt-file, a key without its flag. The CLI
// never repeats such a value. It repeats a value only when the value cannot
// be a secret (a conventional variable name, a path that does not look like
// key material, a flag name), and otherwise describes it ("a value of 1704
// characters that looks like a PEM key"), recognising the slip.

// flagKind is what a flag's value is, for the checks made when it is read.
type flagKind int

const (
	kindText    flagKind = iota // a claim or option value: valid UTF-8, never a key or token
	kindPath                    // a file path: never key material or a token
	kindVarName                 // the NAME of an environment variable holding a secret
	kindPEM                     // PEM text itself (--cert-privatekey, --cert-publickey)
	kindToken                   // a token itself (--jwt)
	kindOpaque                  // a value that may hold a PIN (a command line, a pkcs11: URI): never repeated
)

// flagKindOf gives the kind of a flag: kindText unless listed here. A
// switch, not a map, so that nothing is built when qs-jwt starts.
func flagKindOf(k string) flagKind {
	switch k {
	case "cert-privatekey", "cert-publickey":
		return kindPEM
	case "jwt":
		return kindToken
	case "cert-privatekey-env", "passphrase-env", "api-key-env", "client-secret-env":
		return kindVarName
	case "cert-privatekey-file", "cert-publickey-file", "jwt-file", "cert-file", "cert-file-prefix", "ca-file", "client-cert", "client-key", "cert-privatekey-pfx":
		return kindPath
	case "sign-command", "cert-privatekey-pkcs11":
		return kindOpaque
	}
	return kindText
}

// looksLikePEM reports whether s holds a PEM block or part of one.
func looksLikePEM(s string) bool {
	return strings.Contains(s, "-----BEGIN") || strings.Contains(s, "-----END") ||
		strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "CERTIFICATE-----")
}

// looksLikeToken reports whether s holds a JWT: a compact JWS or JWE, a JSON
// header (base64url of `{"`, "eyJ", not inside a longer base64url run) and
// two or four more base64url parts. It matches what the expression
// (?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*
// matches, by hand: every text, path and name flag's value passes through
// here before a command runs, and compiling that expression cost qs-jwt's
// every start about 30 µs.
func looksLikeToken(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] != "eyJ" || (i > 0 && isB64URL(s[i-1])) {
			continue
		}
		j := skipB64URL(s, i+3)
		if j < len(s) && s[j] == '.' {
			if j = skipB64URL(s, j+1); j < len(s) && s[j] == '.' {
				return true
			}
		}
	}
	return false
}

func isB64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// skipB64URL returns the index of the first byte at or after i that is not
// base64url.
func skipB64URL(s string, i int) int {
	for i < len(s) && isB64URL(s[i]) {
		i++
	}
	return i
}

// hasBase64Run reports whether s holds a run of 40 or more characters of
// the PEM's base64 alphabet that changes between upper case, lower case,
// digits and symbols about as often as encoded random bytes do (2 times in
// 3; the test is at least 35 %, which every base64 line of the test keys
// passes): key material. Names and paths, CamelCase included, change far
// less, and "-" and "_" end a run.
func hasBase64Run(s string) bool { return base64Run(s, 40) }

// claimBase64Run is the shortest base64 run refused in a claim or option
// value: a whole PEM line. Shorter random-looking values are ordinary
// there: an RFC 7638 thumbprint, the key ID keygen suggests, is 43
// characters of base64url.
const claimBase64Run = 64

// base64Run is hasBase64Run for runs of at least min characters.
func base64Run(s string, min int) bool {
	run, changes, prev := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		class := 0
		if i < len(s) {
			switch c := s[i]; {
			case c >= 'A' && c <= 'Z':
				class = 1
			case c >= 'a' && c <= 'z':
				class = 2
			case c >= '0' && c <= '9':
				class = 3
			case c == '+' || c == '/' || c == '=': // the PEM alphabet; tokens are found by looksLikeToken
				class = 4
			}
		}
		if class == 0 {
			if run >= min && changes*100 >= run*35 {
				return true
			}
			run, changes, prev = 0, 0, 0
			continue
		}
		if run > 0 && class != prev {
			changes++
		}
		run, prev = run+1, class
	}
	return false
}

// looksSecret reports whether s may be key material, a token or other
// secret text that must not be printed.
func looksSecret(s string) bool {
	return looksLikePEM(s) || looksLikeToken(s) || hasBase64Run(s) || strings.ContainsAny(s, "\r\n")
}

// whatItLooksLike names what a secret-looking value seems to be.
func whatItLooksLike(s string) string {
	switch {
	case looksLikePEM(s):
		return "a PEM key"
	case looksLikeToken(s):
		return "a token (JWT)"
	case hasBase64Run(s):
		return "key material (a long base64 run)"
	}
	return "several lines of text"
}

// describe describes a value without repeating it.
func describe(s string) string {
	n := utf8.RuneCountInString(s)
	if looksSecret(s) {
		return fmt.Sprintf("a value of %d characters that looks like %s", n, whatItLooksLike(s))
	}
	return fmt.Sprintf("a value of %d %s", n, plural(n, "character"))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// ShownVar is how errors name the environment variable flag names: the
// name itself when it is a conventional one, otherwise a description.
func ShownVar(flag, name string) string {
	if varNameRE.MatchString(name) {
		return "environment variable " + name
	}
	return fmt.Sprintf("the environment variable %s names (%d characters, not repeated: names are case-sensitive)", flag, utf8.RuneCountInString(name))
}

// shownPath is how errors name a file a flag gives: the quoted path, or a
// description when it could be something else pasted by mistake.
func shownPath(flag, path string) string {
	if path == "-" {
		return "stdin"
	}
	switch {
	case looksLikePEM(path) || looksLikeToken(path) || !utf8.ValidString(path) || utf8.RuneCountInString(path) > 256:
	case exists(path), pathLike.MatchString(path) && !looksSecret(path):
		return Quote(path)
	}
	return fmt.Sprintf("the file %s names (%s)", flag, describe(path))
}

// checkValue refuses a value that cannot be right for a flag of its kind,
// before anything uses it, and never repeats the value. It recognises the
// usual slips: a key or token given where a name or path belongs, a key
// given to a claim flag, invalid UTF-8 in a claim.
func checkValue(name, v string) error {
	flag := "--" + name
	switch flagKindOf(name) {
	case kindVarName:
		what := "the passphrase"
		switch name {
		case "cert-privatekey-env":
			what = "the key"
		case "api-key-env":
			what = "the API key"
		case "client-secret-env":
			what = "the client secret"
		}
		switch {
		case v == "":
			return nil // the command says what is missing
		case looksSecret(v):
			return Usagef(flag, "%s is %s, not a variable name: put %s in an environment variable and give the variable's NAME, e.g. %s QS_JWT_KEY",
				flag, describe(v), what, flag)
		case !anyVarNameRE.MatchString(v):
			return Usagef(flag, "%s is %s that is not an environment variable name (letters, digits and _): give the variable's NAME, not %s itself",
				flag, describe(v), what)
		}
	case kindPath:
		if looksLikePEM(v) || looksLikeToken(v) || (looksSecret(v) && !exists(v)) {
			return Usagef(flag, "%s is %s, not a file path: %s", flag, describe(v), pathHint(name, v))
		}
	case kindToken:
		switch {
		case looksLikePEM(v):
			return Usagef(flag, "%s is %s, not a token: give the key with --cert-publickey-file", flag, describe(v))
		case !looksLikeToken(v) && isFile(v):
			return Usagef(flag, "%s takes the token itself, and %s is a file: give it with --jwt-file", flag, shownPath(flag, v))
		}
	case kindOpaque:
		if looksLikePEM(v) || looksLikeToken(v) {
			what := "a command"
			if name == "cert-privatekey-pkcs11" {
				what = "a pkcs11: URI"
			}
			return Usagef(flag, "%s is %s, not %s: a key in a file goes to --cert-privatekey-file, or in an environment variable named by --cert-privatekey-env", flag, describe(v), what)
		}
	case kindText:
		if i := invalidUTF8(v); i >= 0 {
			return Usagef(flag, "%s is not valid UTF-8 (byte 0x%02x at offset %d): Qlik would read a replacement character, so two different values could name one user; give the value in UTF-8",
				flag, v[i], i)
		}
		if looksLikePEM(v) || looksLikeToken(v) || base64Run(v, claimBase64Run) { // several lines are the library's to judge
			return Usagef(flag, "%s is %s; it belongs in no claim or option: a signing key goes in an environment variable named by --cert-privatekey-env", flag, describe(v))
		}
	}
	return nil
}

// pathHint says where a secret given to a path flag belongs.
func pathHint(name, v string) string {
	switch {
	case name == "jwt-file" && looksLikeToken(v):
		return "give the token with --jwt, or its file with --jwt-file"
	case name == "cert-privatekey-file":
		return "give the key file's path, or put the key in an environment variable and give its NAME with --cert-privatekey-env"
	case name == "cert-publickey-file":
		return "give the certificate file's path, or the certificate itself with --cert-publickey"
	case name == "cert-file":
		return "give the certificate file's path (publickey.cer)"
	case name == "cert-privatekey-pfx":
		return "give the PFX file's path, e.g. exported from the QMC"
	case name == "cert-file-prefix":
		return "give the directory (with a trailing /) or the name prefix of the key files"
	}
	return "give the file's path"
}

// exists reports whether path, or the directory a --cert-file-prefix
// names, is there: then it is a path, whatever it looks like.
func exists(path string) bool {
	if _, err := os.Lstat(path); err == nil {
		return true
	}
	dir := filepath.Dir(path)
	_, err := os.Lstat(dir)
	return dir != "." && dir != "/" && err == nil
}

// isFile reports whether path names a regular file.
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// invalidUTF8 returns the offset of the first byte of s that is not valid
// UTF-8, or -1.
func invalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}

// Quote is strconv.Quote for what comes from the user or a token: a
// double-quoted string in which control characters, ESC sequences, line
// breaks and invalid UTF-8 appear escaped, never raw.
func Quote(s string) string { return fmt.Sprintf("%q", s) }

// safeText escapes what must never reach a terminal raw, keeping line
// breaks and tabs: control characters (ESC, C1 controls such as CSI),
// format characters (bidirectional overrides), line and paragraph
// separators, and invalid UTF-8. Every line the CLI prints goes through it.
func safeText(s string) string {
	clean := true
	for _, r := range s {
		if !printable(r) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case printable(r):
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

func printable(r rune) bool {
	return r == '\n' || r == '\t' || (unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r))
}

// safeJSON escapes, inside JSON text, the characters safeText escapes, as
// \uXXXX (surrogate pairs above U+FFFF), so that the JSON stays valid and
// means the same, and replaces invalid UTF-8 with U+FFFD.
func safeJSON(b []byte) []byte {
	var out strings.Builder
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out.WriteString(`\ufffd`)
		case printable(r) || r == '\r' || r == ' ':
			out.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&out, `\u%04x`, r)
		default:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		}
		i += size
	}
	return []byte(out.String())
}
