package engine

import "unicode/utf8"

// CheckClaimName returns why name cannot be a claim name a caller chooses
// (a QSEoW attribute), or "" when it can.
//
// The encoder escapes names, so no name can smuggle in another claim (under
// jwx v2, which writes private names unescaped, `x":"1","userId` made a second
// "userId"; that is why this check was first written). It stays as a rule of
// input, not of safety: a name with a quote, a backslash, a control character
// or invalid UTF-8 is one no Qlik administrator can map to an attribute, so
// it is refused with a reason rather than signed.
func CheckClaimName(name string) string {
	for _, r := range name {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return "contains a quote, a backslash, a control character or invalid UTF-8"
		}
	}
	return ""
}
