package qsjwt

// This file reads the JSON objects of a token's header and payload in one
// pass each, by hand: the verifiers' hot path reads a dozen members, and
// encoding/json's Decoder.Token spends an allocation per token and per value.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// object is a JSON object read in one pass: its members in the order their
// names first appear, each with the raw JSON of its value (the last one
// given, as in encoding/json and JavaScript) and how often the name is
// given. Names and values are substrings of one copy of the JSON text.
type object struct {
	members []member
	dups    bool // a name is given more than once
}

// member is one name of an object, the raw JSON of its value exactly as
// written (no white space around it), and how many times the name is given.
type member struct {
	name, raw string
	times     int
}

// maxDepth bounds the nesting of arrays and objects a value may have, as
// encoding/json does: a deeper value is refused rather than recursed into.
const maxDepth = 10000

// indexAbove is the member count from which duplicate names are found with
// a map instead of by comparing with every earlier name.
const indexAbove = 32

// Why an object does not parse.
var (
	errNotObject = errors.New("it does not start with {")
	errSyntax    = errors.New("the JSON does not parse")
	errTrailing  = errors.New("there is more after the object")
)

// parseObject reads text, which must be exactly one JSON object with white
// space around it at most. The values are checked against the JSON grammar
// (RFC 8259) as encoding/json checks them, nested values included.
func parseObject(text string) (o object, err error) {
	i := skipSpace(text, 0)
	if i == len(text) || text[i] != '{' {
		return o, errNotObject
	}
	o.members = make([]member, 0, 1+strings.Count(text, ":")) // every member has one
	// name → position in members, once they are many
	var index map[string]int
	i = skipSpace(text, i+1)
	if i < len(text) && text[i] == '}' {
		return o, trailing(text, i+1)
	}
	for {
		end, escaped := scanString(text, i)
		if end < 0 {
			return o, errSyntax
		}
		name := text[i+1 : end-1]
		if escaped || !utf8.ValidString(name) { // as jsonString: encoding/json's reading, U+FFFD for bad bytes
			name = unquote(text[i:end])
		}
		i = skipSpace(text, end)
		if i == len(text) || text[i] != ':' {
			return o, errSyntax
		}
		i = skipSpace(text, i+1)
		end = scanValue(text, i, 1) // the object itself is depth 1, as in encoding/json
		if end < 0 {
			return o, errSyntax
		}
		o.add(name, text[i:end], &index)
		i = skipSpace(text, end)
		if i == len(text) {
			return o, errSyntax
		}
		switch text[i] {
		case ',':
			i = skipSpace(text, i+1)
		case '}':
			return o, trailing(text, i+1)
		default:
			return o, errSyntax
		}
	}
}

// add records a member, or a duplicate name whose last value counts.
func (o *object) add(name, raw string, index *map[string]int) {
	at := -1
	if *index != nil {
		if j, ok := (*index)[name]; ok {
			at = j
		}
	} else {
		for j := range o.members {
			if o.members[j].name == name {
				at = j
				break
			}
		}
	}
	if at >= 0 {
		o.members[at].raw = raw
		o.members[at].times++
		o.dups = true
		return
	}
	o.members = append(o.members, member{name, raw, 1})
	if *index == nil && len(o.members) > indexAbove {
		*index = make(map[string]int, cap(o.members)) // cap: the colons, at least the names
		for j, m := range o.members {
			(*index)[m.name] = j
		}
	} else if *index != nil {
		(*index)[name] = len(o.members) - 1
	}
}

// get returns the raw JSON of a member.
func (o *object) get(name string) (string, bool) {
	for i := range o.members {
		if o.members[i].name == name {
			return o.members[i].raw, true
		}
	}
	return "", false
}

// has reports whether the object has a member name.
func (o *object) has(name string) bool {
	_, ok := o.get(name)
	return ok
}

func trailing(text string, i int) error {
	if skipSpace(text, i) != len(text) {
		return errTrailing
	}
	return nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanValue returns the end of the JSON value starting at s[i], or -1 when
// there is none.
func scanValue(s string, i, depth int) int {
	if i >= len(s) {
		return -1
	}
	switch c := s[i]; {
	case c == '"':
		end, _ := scanString(s, i)
		return end
	case c == '{' || c == '[':
		return scanComposite(s, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(s, i)
	case strings.HasPrefix(s[i:], "true"):
		return i + 4
	case strings.HasPrefix(s[i:], "false"):
		return i + 5
	case strings.HasPrefix(s[i:], "null"):
		return i + 4
	}
	return -1
}

// scanComposite returns the end of the array or object starting at s[i].
func scanComposite(s string, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	closer, isObject := byte(']'), s[i] == '{'
	if isObject {
		closer = '}'
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1
	}
	for {
		if isObject {
			end, _ := scanString(s, i)
			if end < 0 {
				return -1
			}
			if i = skipSpace(s, end); i == len(s) || s[i] != ':' {
				return -1
			}
			i = skipSpace(s, i+1)
		}
		end := scanValue(s, i, depth)
		if end < 0 {
			return -1
		}
		if i = skipSpace(s, end); i == len(s) {
			return -1
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case closer:
			return i + 1
		default:
			return -1
		}
	}
}

// scanString returns the end of the JSON string starting at s[i] (after
// its closing quote), or -1; escaped says whether it holds a backslash.
// Control characters must be escaped; any other byte is taken as it is, as
// encoding/json takes it.
func scanString(s string, i int) (end int, escaped bool) {
	if i >= len(s) || s[i] != '"' {
		return -1, false
	}
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, escaped
		case c < 0x20:
			return -1, false
		case c == '\\':
			escaped = true
			if i++; i == len(s) {
				return -1, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return -1, false
				}
				if !isHex(s[i+1]) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) {
					return -1, false
				}
				i += 4
			default:
				return -1, false
			}
		}
	}
	return -1, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanNumber returns the end of the JSON number starting at s[i], or -1.
func scanNumber(s string, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	default:
		if i = digits(i); i < 0 {
			return -1
		}
	}
	if i < len(s) && s[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

// unquote decodes a JSON string whose escapes scanString accepted, as
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD).
func unquote(raw string) string {
	var s string
	_ = json.Unmarshal([]byte(raw), &s)
	return s
}

// jsonString returns the string raw holds; ok is false when raw is not a
// JSON string (null included).
func jsonString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if inner := raw[1 : len(raw)-1]; strings.IndexByte(inner, '\\') < 0 && utf8.ValidString(inner) {
		return inner, true
	}
	return unquote(raw), true
}

// jsonStrings returns the strings of a JSON array of strings; ok is false
// for any other value. A null element reads as "", as encoding/json reads
// it into a []string.
func jsonStrings(raw string) (v []string, ok bool) {
	if raw == "" || raw[0] != '[' {
		return nil, false
	}
	v = make([]string, 0, 1+strings.Count(raw, ","))
	i := skipSpace(raw, 1)
	if raw[i] == ']' {
		return v, true
	}
	for {
		var s string
		if strings.HasPrefix(raw[i:], "null") {
			i += 4
		} else {
			end, _ := scanString(raw, i)
			if end < 0 {
				return nil, false
			}
			s, _ = jsonString(raw[i:end])
			i = end
		}
		v = append(v, s)
		i = skipSpace(raw, i)
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return v, true
		default:
			return nil, false
		}
	}
}

// isNumber reports whether raw is a JSON number.
func isNumber(raw string) bool { return raw != "" && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') }

// isString reports whether raw is a JSON string (not null).
func isString(raw string) bool { return raw != "" && raw[0] == '"' }

// decodeValue decodes a claim for the claims' maps: strings, booleans,
// []string for an array of strings, json.Number for numbers, nil for null,
// and otherwise what encoding/json makes of it with UseNumber.
func decodeValue(raw string) any {
	switch {
	case isString(raw):
		s, _ := jsonString(raw)
		return s
	case isNumber(raw):
		return json.Number(raw)
	case raw == "true" || raw == "false":
		return raw == "true"
	case raw == "null":
		return nil
	}
	if ss, ok := jsonStrings(raw); ok {
		return ss
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// compact returns raw JSON on one line.
func compact(raw string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		return raw
	}
	return b.String()
}

// describeJSON names a JSON value's type and shows it on one line,
// shortened, with every character a terminal could act on escaped: `the
// string "true"`, `an array ["a"]`, `a number 3`.
func describeJSON(raw string) string {
	v := compact(raw)
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	v = printable(v)
	switch {
	case v == "":
		return "empty"
	case v[0] == '"':
		return "the string " + v
	case v[0] == '[':
		return "an array " + v
	case v[0] == '{':
		return "an object " + v
	case v == "true" || v == "false":
		return "the boolean " + v
	case v == "null":
		return "null"
	}
	return "the number " + v
}

// printable escapes, JSON-style, every character of s that is not
// printable (control characters of C0 and C1, format characters such as
// U+202E, line and paragraph separators) and every byte that is not UTF-8,
// so that a value from a token reaches no terminal or log raw.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[s[i]>>4])
			b.WriteByte("0123456789abcdef"[s[i]&15])
		case !unicode.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r) // '\u202e', '\U000e0001'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
