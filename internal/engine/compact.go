package engine

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrMalformed: the token is not a compact JWS of three canonical base64url
// segments. The error wrapping it says which segment and why.
var ErrMalformed = errors.New("not a compact JWS")

// ErrBadSignature: the signature does not verify with the key.
var ErrBadSignature = errors.New("the signature does not verify with the key")

// Compact is a compact JWS split into its segments and decoded, each segment
// once. Its byte slices share one buffer, owned by the caller.
type Compact struct {
	// SigningInput is the first two segments as received, with the dot
	// between them: the exact bytes the signature covers.
	SigningInput []byte
	// Header and Payload are the decoded first and second segments: the
	// JSON to parse, exactly the bytes the signature covers once verified.
	Header, Payload []byte
	// Signature is the decoded third segment.
	Signature []byte
}

// base64url is the base64url alphabet (A-Z a-z 0-9 - _) as a 256-bit set:
// bit c&63 of word c>>6 is set for each of its bytes. One lookup per byte
// keeps the scan of a token a small part of verifying it.
var base64url = [4]uint64{
	1<<'-' | 0x3ff<<'0', // - 0-9
	0x3ffffff<<('A'-64) | 1<<('_'-64) | 0x3ffffff<<('a'-64), // A-Z _ a-z
}

// segments names the three segments in errors.
var segments = [3]string{"header", "payload", "signature"}

// ParseCompact splits token into its three segments and decodes them. It
// refuses, with an error wrapping ErrMalformed, anything but exactly three
// non-empty segments of the base64url alphabet without padding (A-Z a-z 0-9
// - _): a fourth or fifth segment (JWE), the JSON serialization, "=", "+",
// "/", spaces, CR and LF (which encoding/base64 would skip), and a last
// character whose unused bits are not zero (another spelling of the same
// bytes). The caller trims what it chooses to trim before.
func ParseCompact(token string) (Compact, error) {
	var dots [2]int
	n := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case base64url[c>>6]&(1<<(c&63)) != 0:
		case c == '.':
			if n == 2 {
				return Compact{}, fmt.Errorf("%w: more than three segments (a JWE has five; Qlik takes a signed JWT)", ErrMalformed)
			}
			dots[n] = i
			n++
		default:
			return Compact{}, fmt.Errorf("%w: %s at byte %d, outside the base64url alphabet (A-Z a-z 0-9 - _, no padding)",
				ErrMalformed, describeByte(c), i)
		}
	}
	if n != 2 {
		return Compact{}, fmt.Errorf("%w: %d segments; a compact JWS has three, joined by dots", ErrMalformed, n+1)
	}
	parts := [3]string{token[:dots[0]], token[dots[0]+1 : dots[1]], token[dots[1]+1:]}
	enc := base64.RawURLEncoding.Strict()
	size := len(token)
	for i, p := range parts {
		if p == "" {
			return Compact{}, fmt.Errorf("%w: the %s segment is empty", ErrMalformed, segments[i])
		}
		if len(p)%4 == 1 {
			return Compact{}, fmt.Errorf("%w: the %s segment has a length no base64url text has", ErrMalformed, segments[i])
		}
		size += enc.DecodedLen(len(p))
	}
	// One buffer: the token as received, then the three decoded segments.
	buf := make([]byte, size)
	copy(buf, token)
	c := Compact{SigningInput: buf[:dots[1]:dots[1]]}
	text := [3][]byte{buf[:dots[0]], buf[dots[0]+1 : dots[1]], buf[dots[1]+1 : len(token)]}
	rest := buf[len(token):]
	var out [3][]byte
	for i := range parts {
		m, err := enc.Decode(rest, text[i])
		if err != nil {
			return Compact{}, fmt.Errorf("%w: the %s segment is not canonical base64url", ErrMalformed, segments[i])
		}
		out[i], rest = rest[:m:m], rest[m:]
	}
	c.Header, c.Payload, c.Signature = out[0], out[1], out[2]
	return c, nil
}

func describeByte(c byte) string {
	switch c {
	case '\r':
		return "a carriage return (CR)"
	case '\n':
		return "a line feed (LF)"
	case ' ':
		return "a space"
	case '=':
		return "padding (=)"
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Sprintf("%q", c)
}

// VerifyRSA checks c's signature over c.SigningInput, exactly the bytes
// received, with RSA PKCS #1 v1.5 under alg (RS256, RS384 or RS512, the hash
// its name says) and key. alg is the header's "alg", read by the caller from
// c.Header; it must be in allowed, which the caller gives (there is no
// default). A signature that does not verify gives ErrBadSignature.
func (c *Compact) VerifyRSA(alg string, allowed []string, key *rsa.PublicKey) error {
	if !slices.Contains(allowed, alg) {
		return fmt.Errorf("algorithm %q is not allowed (allowed: %s)", alg, strings.Join(allowed, ", "))
	}
	if key == nil {
		return errors.New("no RSA public key")
	}
	var sum [64]byte
	var digest []byte
	var h crypto.Hash
	switch alg {
	case "RS256":
		s := sha256.Sum256(c.SigningInput)
		digest, h = sum[:copy(sum[:], s[:])], crypto.SHA256
	case "RS384":
		s := sha512.Sum384(c.SigningInput)
		digest, h = sum[:copy(sum[:], s[:])], crypto.SHA384
	case "RS512":
		sum = sha512.Sum512(c.SigningInput)
		digest, h = sum[:], crypto.SHA512
	default:
		return fmt.Errorf("algorithm %q is not an RSA PKCS #1 v1.5 algorithm", alg)
	}
	if rsa.VerifyPKCS1v15(key, h, digest, c.Signature) != nil {
		return ErrBadSignature
	}
	return nil
}
