package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// CheckClaimName refuses names no Qlik administrator can map; the encoder
// writes any valid UTF-8 name safely (TestEncoderTokensVerifyInJWX).
func TestCheckClaimName(t *testing.T) {
	for _, name := range []string{`zz":"1","userId`, `a"`, `\`, "a\nb", "\x7f", "\xff"} {
		assert.NotEmpty(t, CheckClaimName(name), "%q", name)
	}
	for _, name := range []string{"userId", "avdelning-ä", "a b", "😀"} {
		assert.Empty(t, CheckClaimName(name), "%q", name)
	}
}
