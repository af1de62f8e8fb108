package qsjwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// maxTokenSize is the largest token, in bytes, that [Decode] and the
// verifiers read (64 KiB); a longer one is refused before any parsing.
// Tokens Qlik accepts are far smaller: a Qlik Cloud token is under 1 KiB,
// and web servers rarely take request headers over 8 KiB.
const maxTokenSize = 64 << 10

// errMalformedToken: the token is not a compact JWS (header.payload.signature)
// with JSON objects for header and payload.
var errMalformedToken = errors.New("qsjwt: malformed token")

// Decoded is a token taken apart without a key: nothing in it is verified.
// Anyone can write any header and claims; only a verifier
// ([NewQSEoWVerifier], [NewCloudVerifier]) says whether Qlik would accept
// them. String renders it as text for people, MarshalJSON as JSON for
// programs; both say that it is unverified and show iat, nbf and exp as dates.
type Decoded struct {
	// Header and Claims are the JSON of the header and of the payload,
	// exactly as the token carries them.
	Header, Claims json.RawMessage
	// Dates holds each of iat, nbf and exp that is a JSON number within
	// the range of a NumericDate, as a time in UTC.
	Dates map[string]time.Time
	// Signature is the signature's bytes; empty for an unsigned token
	// ("alg": "none").
	Signature []byte

	header, claims object
}

// Decode takes token apart without a key and without checking anything but
// its form: a compact JWS of at most 64 KiB whose three parts are
// base64url (its alphabet only, no padding, no white space inside), with a
// JSON object for header and payload. White space around token is ignored.
// A token of another form gives an error that says what is wrong with it;
// nothing else is judged: use a verifier for that.
func Decode(token string) (*Decoded, error) {
	p, part, why := parse(token)
	if why != "" {
		return nil, fmt.Errorf("%w: %s %s", errMalformedToken, part, why)
	}
	d := &Decoded{Header: p.compact.Header, Claims: p.compact.Payload, Signature: p.compact.Signature,
		header: p.header, claims: p.claims, Dates: map[string]time.Time{}}
	for _, m := range p.claims.members {
		if m.name != "iat" && m.name != "nbf" && m.name != "exp" {
			continue
		}
		if t, ok := numericDate(m.raw); ok {
			d.Dates[m.name] = t
		}
	}
	return d, nil
}

// parsed is a token taken apart: the segments as received and decoded, and
// the header and the payload read from exactly the decoded bytes, each
// once.
type parsed struct {
	compact        engine.Compact
	header, claims object
}

// parse is the work of Decode and of the verifiers; on failure it returns
// the part at fault ("token", "header", "payload" or "signature") and why.
func parse(token string) (p parsed, part, why string) {
	if len(token) > maxTokenSize {
		return p, "token", fmt.Sprintf("is %d bytes, over the %d bytes (64 KiB) qsjwt reads; a Qlik token is under a few KiB", len(token), maxTokenSize)
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return p, "token", "is empty"
	case token[0] == '{':
		return p, "token", "is a JWS JSON serialization; Qlik reads only the compact form header.payload.signature"
	case len(token) > 7 && strings.EqualFold(token[:7], "bearer "):
		return p, "token", `starts with "Bearer "; give the token without the Authorization scheme`
	}
	unsigned := strings.HasSuffix(token, ".")
	if unsigned {
		// An unsecured JWS ("alg": "none") has an empty signature, which
		// ParseCompact refuses: read the rest, so that the header can say
		// why Qlik refuses the token. The signing input is unchanged.
		token += "AA"
	}
	c, err := engine.ParseCompact(token)
	if err != nil {
		return p, segmentAtFault(token, err), "is " + err.Error()
	}
	if unsigned {
		c.Signature = c.Signature[:0]
	}
	p.compact = c
	if p.header, err = parseObject(string(c.Header)); err != nil {
		return p, "header", "is not a JSON object: " + err.Error()
	}
	if p.claims, err = parseObject(string(c.Payload)); err != nil {
		return p, "payload", "is not a JSON object: " + err.Error()
	}
	return p, "", ""
}

// segmentAtFault names the segment engine.ParseCompact refused, or "token"
// when the fault is the token's shape.
func segmentAtFault(token string, err error) string {
	names := [3]string{"header", "payload", "signature"}
	dots := 0
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c == '.':
			dots++
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default: // the byte ParseCompact refused
			return names[min(dots, 2)]
		}
	}
	for _, n := range names {
		if strings.Contains(err.Error(), "the "+n+" segment") {
			return n
		}
	}
	return "token"
}

// String renders d for people: a warning that nothing is verified, then the
// header and the claims one per line, each value as JSON (so that the string
// "true" and the boolean true look different), with iat, nbf and exp also as
// RFC 3339 dates in UTC. Names and values are escaped: no control or format
// character of the token reaches a terminal.
func (d Decoded) String() string {
	var b strings.Builder
	b.WriteString("UNVERIFIED: decoded without a key; the signature was not checked, so anyone could have written these values.\n")
	for _, sec := range []struct {
		title string
		obj   object
		dates bool
	}{{"header", d.header, false}, {"claims", d.claims, true}} {
		b.WriteString(sec.title + ":\n")
		width := 0
		for _, m := range sec.obj.members {
			width = max(width, len(claimLabel(m.name)))
		}
		for _, m := range sec.obj.members {
			fmt.Fprintf(&b, "  %-*s  %s", width, claimLabel(m.name), printable(compact(m.raw)))
			if t, ok := d.Dates[m.name]; ok && sec.dates {
				fmt.Fprintf(&b, "  (%s)", formatDate(t))
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// claimLabel is a name from a token as Go would quote it, without the
// quotes: `userId\nalg` for a name holding a line feed.
func claimLabel(name string) string {
	q := strconv.Quote(name)
	return q[1 : len(q)-1]
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

// maxDateSeconds bounds the NumericDates qsjwt reads: 2^53 - 1 seconds
// from 1970 either way, the largest integer JavaScript (Qlik Cloud's
// Node.js) holds exactly, some 285 million years. Beyond it a date is
// refused: time.Time arithmetic near 2^63 seconds would wrap to the past.
const maxDateSeconds = 1<<53 - 1

// numericDate reads a JSON number of seconds since 1970 (RFC 7519
// NumericDate, fractions allowed) within maxDateSeconds as a time in UTC.
func numericDate(raw string) (time.Time, bool) {
	if !isNumber(raw) {
		return time.Time{}, false
	}
	if i, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if i > maxDateSeconds || i < -maxDateSeconds {
			return time.Time{}, false
		}
		return time.Unix(i, 0).UTC(), true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxDateSeconds {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}
