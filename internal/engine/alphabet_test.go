package engine

import (
	"strings"
	"testing"
)

// TestBase64urlSet holds the bit set ParseCompact scans with to the
// alphabet of RFC 4648 §5, byte by byte.
func TestBase64urlSet(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for c := range 256 {
		in := base64url[c>>6]&(1<<(c&63)) != 0
		if want := strings.IndexByte(alphabet, byte(c)) >= 0; in != want {
			t.Errorf("byte 0x%02x: in the set %v, in the alphabet %v", c, in, want)
		}
	}
}
