package qsjwt

import (
	"crypto"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzVerify feeds arbitrary text to Decode and both verifiers: they must
// never panic; a refusal is a *VerifyError with at least one problem that
// is not a warning; and a token they accept must verify with crypto/rsa alone.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{"test-only-cloud-openssl.jwt", "test-only-cloud-othertool.jwt", "test-only-qseow-openssl-rs512.jwt"} {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(f, err)
		f.Add(string(b))
	}
	key := testKey(f)
	f.Add(forge(`{"alg":"RS256"}`, `{"userId":"a","userDirectory":"d","userId":"b"}`, rsaSign(key, crypto.SHA256)))
	f.Add(forge(`{"alg":"none"}`, `{}`, nil))
	// The malleable tokens of issue 10.3: the header re-encoded with spaces
	// around it, and CR LF inside a segment, each with the original signature.
	good := forge(cloudHeaderOK, claimsJSON(f, cloudClaimsOK, nil), rsaSign(key, crypto.SHA256))
	parts := strings.Split(good, ".")
	f.Add(b64([]byte(" "+cloudHeaderOK+" ")) + "." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + parts[1][:16] + "\r\n" + parts[1][16:] + "." + parts[2])
	f.Add("a.b.c.d.e")
	f.Add(`{"payload":""}`)
	cloud := newTestCloudVerifier(f)
	qseow := newTestQSEoWVerifier(f)
	pub := testCertKey(f)
	f.Fuzz(func(t *testing.T, token string) {
		d, decErr := Decode(token)
		if decErr != nil {
			assert.True(t, errors.Is(decErr, errMalformedToken), "%v", decErr)
		} else {
			_ = d.String()
			_, err := d.MarshalJSON()
			assert.NoError(t, err)
		}
		for _, verify := range []func(string) error{
			func(s string) error { _, err := cloud.Verify(s); return err },
			func(s string) error { _, err := qseow.Verify(s); return err },
		} {
			err := verify(token)
			if err == nil {
				require.NoError(t, decErr, "an accepted token decodes")
				verifyStdlib(t, strings.TrimSpace(token), pub)
				continue
			}
			var ve *VerifyError
			require.True(t, errors.As(err, &ve), "refusals are *VerifyError: %v", err)
			refused := false
			for _, p := range ve.Problems {
				refused = refused || !p.Warning
			}
			assert.True(t, refused, "a refusal names a reason: %v", err)
		}
	})
}
