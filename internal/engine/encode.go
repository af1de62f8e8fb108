package engine

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Claim is one claim of a token to sign. Values are JSON values: string,
// bool, []string, integers, finite floats, nil (null), or time.Time for
// NumericDate claims (iat, nbf, exp), which are written as whole seconds.
// Anything else (a map, a struct) is written with encoding/json.
type Claim struct {
	Name  string
	Value any
}

// ClaimError is a claim the encoder cannot write: invalid UTF-8 in its name
// or value, a NaN or infinite number, or a value encoding/json refuses.
// Reason never repeats the value.
type ClaimError struct {
	// Claim is the claim's name, as given (it may hold invalid UTF-8).
	Claim string
	// Reason says what is wrong.
	Reason string
}

func (e *ClaimError) Error() string { return fmt.Sprintf("claim %q: %s", e.Claim, e.Reason) }

// Hash returns the hash function of a JWS algorithm this package signs and
// verifies (RS256, RS384, RS512; ES384 for a later OAuth client assertion),
// or 0 for any other.
func Hash(alg string) crypto.Hash {
	switch alg {
	case "RS256":
		return crypto.SHA256
	case "RS384", "ES384":
		return crypto.SHA384
	case "RS512":
		return crypto.SHA512
	}
	return 0
}

// scratch holds the JSON of a header or payload while it is base64url-encoded
// into the token: pooled, so that a token costs one buffer, its own.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// AppendSigningInput appends the JWS signing input of a compact token,
// b64url(header) "." b64url(payload), to dst and returns the extended buffer.
//
// The header is {"alg":alg,"kid":kid,"typ":"JWT"} (kid left out when empty).
// The payload holds claims in the order given; names and string values are
// escaped as JSON requires (a name such as `x","userId` stays one name), so
// the caller must give each name once. A claim that cannot be written gives a
// *ClaimError and dst unchanged. alg must be one [Hash] knows.
//
// Give dst with room for the whole token (see [TokenSize]) and the token costs
// no allocation beyond dst; the function is safe for concurrent use.
func AppendSigningInput(dst []byte, alg, kid string, claims []Claim) ([]byte, error) {
	if Hash(alg) == 0 {
		return dst, fmt.Errorf("algorithm %q cannot be signed here (RS256, RS384, RS512, ES384)", alg)
	}
	bp := scratch.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // a rare huge token does not stay in the pool
			scratch.Put(bp)
		}
	}()
	js := append((*bp)[:0], `{"alg":`...)
	js = appendString(js, alg)
	if kid != "" {
		js = append(js, `,"kid":`...)
		if !utf8.ValidString(kid) {
			return dst, &ClaimError{Claim: "kid", Reason: "the key ID is not valid UTF-8"}
		}
		js = appendString(js, kid)
	}
	js = append(js, `,"typ":"JWT"}`...)
	n := len(js)

	js = append(js, '{')
	for i, c := range claims {
		if i > 0 {
			js = append(js, ',')
		}
		if !utf8.ValidString(c.Name) {
			return dst, &ClaimError{Claim: c.Name, Reason: "the name is not valid UTF-8"}
		}
		js = appendString(js, c.Name)
		js = append(js, ':')
		var err error
		if js, err = appendValue(js, c.Value); err != nil {
			*bp = js
			return dst, &ClaimError{Claim: c.Name, Reason: err.Error()}
		}
	}
	js = append(js, '}')
	*bp = js

	enc := base64.RawURLEncoding
	dst = enc.AppendEncode(dst, js[:n])
	dst = append(dst, '.')
	return enc.AppendEncode(dst, js[n:]), nil
}

// AppendSignature appends "." and the base64url signature to a signing input
// from [AppendSigningInput], completing the compact token. For RS* sig is
// the PKCS #1 v1.5 signature; for ES384 the 96-byte r||s of RFC 7518, not
// the ASN.1 form crypto.Signer returns.
func AppendSignature(input, sig []byte) []byte {
	input = append(input, '.')
	return base64.RawURLEncoding.AppendEncode(input, sig)
}

// TokenSize returns a capacity for dst of [AppendSigningInput] that holds the
// whole token of kid and claims with a signature of sigLen bytes, in the
// common case that little needs escaping: then the token costs one
// allocation, dst's.
func TokenSize(kid string, claims []Claim, sigLen int) int {
	n := 48 + len(kid) // {"alg":"RS256","kid":"","typ":"JWT"}
	for _, c := range claims {
		n += len(c.Name) + 4
		switch v := c.Value.(type) {
		case string:
			n += len(v) + 2
		case []string:
			n += 2
			for _, s := range v {
				n += len(s) + 3
			}
		default:
			n += 24
		}
	}
	enc := base64.RawURLEncoding
	return enc.EncodedLen(n) + 2 + enc.EncodedLen(sigLen)
}

// appendValue appends v as JSON.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return b, errNotUTF8
		}
		return appendString(b, v), nil
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if !utf8.ValidString(s) {
				return b, fmt.Errorf("item %d: %w", i, errNotUTF8)
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case time.Time:
		return strconv.AppendInt(b, v.Unix(), 10), nil // Unix() drops the fraction
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float32:
		return appendFloat(b, float64(v), 32)
	case float64:
		return appendFloat(b, v, 64)
	case nil:
		return append(b, "null"...), nil
	}
	// Maps, structs, json.Number, json.RawMessage: encoding/json writes them
	// (with its own escaping, HTML characters included). It replaces invalid
	// UTF-8 silently, so the result is checked against the value's strings
	// only where we write them ourselves; a caller with such values checks
	// them before.
	js, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("the value of type %T cannot be written as JSON", v)
	}
	return append(b, js...), nil
}

var errNotUTF8 = errors.New("the value is not valid UTF-8")

// appendFloat writes f as encoding/json does (ES6 number formatting), and
// refuses NaN and ±Inf, which JSON cannot hold.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("the number %v cannot be written in JSON; give a finite number", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' { // clean up e-09 to e-9, as encoding/json does
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s, valid UTF-8, as a JSON string: quote, backslash and
// control characters escaped, and U+2028/U+2029 too (as encoding/json does,
// so that the JSON is also valid JavaScript). Everything else is written as is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
