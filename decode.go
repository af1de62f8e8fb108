package qsjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxTokenSize is the largest token, in bytes, that [Decode] and the
// verifiers read; a longer one is refused before any parsing. Tokens Qlik
// accepts are far smaller: a Qlik Cloud token is under 1 KiB, and web
// servers rarely take request headers over 8 KiB.
const MaxTokenSize = 64 << 10

// ErrMalformedToken: the token is not a compact JWS (header.payload.signature)
// with JSON objects for header and payload.
var ErrMalformedToken = errors.New("qsjwt: malformed token")

// dateClaims are the NumericDate claims shown as dates.
var dateClaims = map[string]bool{"iat": true, "nbf": true, "exp": true}

// Decoded is a token taken apart without a key: nothing in it is verified.
// Anyone can write any header and claims; only a verifier
// ([NewQSEoWVerifier], [NewCloudVerifier]) says whether Qlik would accept
// them. String renders it as text for people, MarshalJSON as JSON for
// programs; both say that it is unverified and show iat, nbf and exp as dates.
type Decoded struct {
	// Header and Claims are the JSON of the header and of the payload,
	// exactly as the token carries them.
	Header, Claims json.RawMessage
	// Dates holds each of iat, nbf and exp that is a JSON number, as a time
	// in UTC.
	Dates map[string]time.Time
	// Signature is the signature's bytes; empty for an "alg": "none" token.
	Signature []byte

	header, claims *object
	signingInput   string
}

// Decode takes token apart without a key and without checking anything but
// its form: a compact JWS of at most [MaxTokenSize] bytes whose three parts
// are base64url, with a JSON object for header and payload. White space
// around token is ignored. A token of another form gives an error wrapping
// [ErrMalformedToken]; nothing else is judged: use a verifier for that.
func Decode(token string) (*Decoded, error) {
	d, part, why := decode(token)
	if why != "" {
		return nil, fmt.Errorf("%w: %s %s", ErrMalformedToken, part, why)
	}
	return d, nil
}

// decode is Decode's work; on failure it returns the part at fault ("token",
// "header", "payload" or "signature") and why.
func decode(token string) (d *Decoded, part, why string) {
	if len(token) > MaxTokenSize {
		return nil, "token", fmt.Sprintf("is %d bytes, over the %d bytes qsjwt reads (MaxTokenSize); a Qlik token is under a few KiB", len(token), MaxTokenSize)
	}
	token = strings.TrimSpace(token)
	parts := strings.Split(token, ".")
	switch {
	case token == "":
		return nil, "token", "is empty"
	case strings.HasPrefix(token, "{"):
		return nil, "token", "is a JWS JSON serialization; Qlik reads only the compact form header.payload.signature"
	case len(token) > 7 && strings.EqualFold(token[:7], "bearer "):
		return nil, "token", `starts with "Bearer "; give the token without the Authorization scheme`
	case len(parts) == 5:
		return nil, "token", "has five parts: it is an encrypted token (JWE); Qlik accepts only signed tokens (JWS)"
	case len(parts) != 3:
		return nil, "token", fmt.Sprintf("has %d parts separated by dots; a JWT has three: header.payload.signature", len(parts))
	}
	d = &Decoded{signingInput: parts[0] + "." + parts[1]}
	var err error
	for i, name := range []string{"header", "payload", "signature"} {
		b, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		if err != nil {
			return nil, name, "is not base64url without padding"
		}
		switch i {
		case 0:
			d.Header = b
		case 1:
			d.Claims = b
		case 2:
			d.Signature = b
		}
	}
	if d.header, err = parseObject(d.Header); err != nil {
		return nil, "header", "is not a JSON object: " + err.Error()
	}
	if d.claims, err = parseObject(d.Claims); err != nil {
		return nil, "payload", "is not a JSON object: " + err.Error()
	}
	d.Dates = map[string]time.Time{}
	for _, name := range d.claims.names {
		if !dateClaims[name] {
			continue
		}
		if t, ok := numericDate(d.claims.members[name]); ok {
			d.Dates[name] = t
		}
	}
	return d, "", ""
}

// String renders d for people: a warning that nothing is verified, then the
// header and the claims one per line, each value as JSON (so that the string
// "true" and the boolean true look different), with iat, nbf and exp also as
// RFC 3339 dates in UTC.
func (d Decoded) String() string {
	var b strings.Builder
	b.WriteString("UNVERIFIED: decoded without a key; the signature was not checked, so anyone could have written these values.\n")
	for _, sec := range []struct {
		title string
		obj   *object
		dates bool
	}{{"header", d.header, false}, {"claims", d.claims, true}} {
		b.WriteString(sec.title + ":\n")
		if sec.obj == nil {
			continue
		}
		width := 0
		for _, n := range sec.obj.names {
			width = max(width, len(strconv.Quote(n))-2)
		}
		for _, n := range sec.obj.names {
			name := strings.Trim(strconv.Quote(n), `"`)
			fmt.Fprintf(&b, "  %-*s  %s", width, name, compact(sec.obj.members[n]))
			if t, ok := d.Dates[n]; ok && sec.dates {
				fmt.Fprintf(&b, "  (%s)", formatDate(t))
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// MarshalJSON renders d for programs:
//
//	{"unverified": true, "header": {…}, "claims": {…}, "dates": {"exp": "2026-11-29T12:05:00Z", …}}
//
// header and claims are the token's JSON as written; dates holds iat, nbf
// and exp as RFC 3339 dates in UTC.
func (d Decoded) MarshalJSON() ([]byte, error) {
	dates := make(map[string]string, len(d.Dates))
	for n, t := range d.Dates {
		dates[n] = formatDate(t)
	}
	return json.Marshal(struct {
		Unverified bool              `json:"unverified"`
		Header     json.RawMessage   `json:"header"`
		Claims     json.RawMessage   `json:"claims"`
		Dates      map[string]string `json:"dates"`
	}{true, d.Header, d.Claims, dates})
}

// formatDate is RFC 3339 in UTC, also for years past 9999 (a date in
// milliseconds read as seconds), which time.Time's MarshalJSON refuses.
func formatDate(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// compact returns raw JSON on one line.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// object is a JSON object with its members' raw JSON, the names in the order
// they first appear, and the names given more than once (the last value
// counts, as in encoding/json and JavaScript).
type object struct {
	members map[string]json.RawMessage
	names   []string
	dups    []string
}

func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("it does not start with {")
	}
	o := &object{members: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("the JSON does not parse")
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("the JSON does not parse")
		}
		if _, seen := o.members[name]; seen {
			o.dups = append(o.dups, name)
		} else {
			o.names = append(o.names, name)
		}
		o.members[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("the JSON does not parse")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("there is more after the object")
	}
	return o, nil
}

// numericDate reads a JSON number of seconds since 1970 (RFC 7519
// NumericDate, fractions allowed) as a time in UTC.
func numericDate(raw json.RawMessage) (time.Time, bool) {
	var n json.Number
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return time.Time{}, false
	}
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0).UTC(), true
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.Abs(f) >= 1<<63 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}
