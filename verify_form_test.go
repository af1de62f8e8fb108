package qsjwt

import (
	"crypto"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyExactBytes (issue 10.3): the signature covers the segments as
// received, and the JSON read is the JSON they decode to. The same header
// re-encoded with spaces around it keeps no signature; a token really
// signed over such a header is a good token; a byte outside base64url
// inside a segment is refused with the reason the parser gives, not as a
// bad signature.
func TestVerifyExactBytes(t *testing.T) {
	rs := rsaSign(testKey(t), crypto.SHA256)
	claims := claimsJSON(t, cloudClaimsOK, nil)
	good := forge(cloudHeaderOK, claims, rs)
	parts := strings.Split(good, ".")
	respaced := b64([]byte(" "+cloudHeaderOK+" ")) + "." + parts[1] + "." + parts[2]
	v := newTestCloudVerifier(t)

	_, err := v.Verify(respaced)
	assert.Equal(t, []string{"signature"}, problems(t, err), "the original signature does not cover a re-encoded header")

	cl, err := v.Verify(forge(" "+cloudHeaderOK+" ", claims, rs))
	require.NoError(t, err, "a token signed over a header with white space around it is good")
	assert.Equal(t, "kid-1", cl.KeyID)

	for _, tc := range []struct{ name, token, part, says string }{
		{"CR LF in the payload", parts[0] + "." + parts[1][:20] + "\r\n" + parts[1][20:] + "." + parts[2], "payload", "carriage return (CR) at byte"},
		{"LF in the header", parts[0][:5] + "\n" + parts[0][5:] + "." + parts[1] + "." + parts[2], "header", "line feed (LF) at byte 5"},
		{"space in the signature", parts[0] + "." + parts[1] + "." + parts[2][:9] + " " + parts[2][9:], "signature", "a space at byte"},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], "header", "padding (=)"},
		{"standard alphabet", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]), "signature", "outside the base64url alphabet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.token)
			var ve *VerifyError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1, "%v", err)
			assert.Equal(t, tc.part, ve.Problems[0].Claim)
			assert.Contains(t, ve.Problems[0].Rule, tc.says)
			assert.NotContains(t, err.Error(), "does not verify")
			_, err = Decode(tc.token)
			assert.ErrorIs(t, err, errMalformedToken)
		})
	}
}

// TestVerifyDatesOutOfRange (issue 10.4): a NumericDate near or above 2^63
// seconds is refused with a reason, never wrapped to a date in the past; the
// largest one accepted is 2^53-1 seconds.
func TestVerifyDatesOutOfRange(t *testing.T) {
	rs := rsaSign(testKey(t), crypto.SHA256)
	hdr := `{"alg":"RS256"}`
	cases := []struct {
		name, claim, value string
		want               []string
	}{
		{"nbf 2^62 (time.Unix wraps it to the past)", "nbf", "4611686018427387904", []string{"nbf"}},
		{"nbf MaxInt64", "nbf", "9223372036854775807", []string{"nbf"}},
		{"exp MaxInt64", "exp", "9223372036854775807", []string{"exp"}},
		{"exp above int64", "exp", "9223372036854775808", []string{"exp"}},
		{"exp 1e30 digits", "exp", "1" + strings.Repeat("0", 30), []string{"exp"}},
		{"iat MinInt64", "iat", "-9223372036854775808", []string{"iat"}},
		{"exp 2^53", "exp", "9007199254740992", []string{"exp"}},
		{"exp 2^53-1: far, but a date", "exp", "9007199254740991", nil},
	}
	v := newTestQSEoWVerifier(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims := strings.Replace(claimsJSON(t, qseowClaimsOK, func(m map[string]any) { delete(m, tc.claim) }), "{", `{"`+tc.claim+`":`+tc.value+",", 1)
			cl, err := v.Verify(forge(hdr, claims, rs))
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, []string{"warning:" + tc.claim}, warnings(cl.Warnings), "a date that far looks like milliseconds")
				return
			}
			assert.Equal(t, tc.want, problems(t, err), "%v", err)
			assert.Contains(t, err.Error(), "beyond the range of a date")
			assert.NotContains(t, err.Error(), "292277026596")
		})
	}
	t.Run("Cloud: exp - iat of two far dates does not overflow", func(t *testing.T) {
		claims := claimsJSON(t, cloudClaimsOK, func(m map[string]any) { m["iat"], m["nbf"] = -(1<<53 - 1), -(1<<53 - 1) })
		_, err := newTestCloudVerifier(t).Verify(forge(cloudHeaderOK, claims, rs))
		assert.Equal(t, []string{"exp", "exp"}, problems(t, err), "exp - iat and exp - nbf are each over an hour")
		assert.Contains(t, err.Error(), fmt.Sprintf("exp - iat is %d s", now+300+(1<<53-1)))
	})
	t.Run("Decode shows no wrapped date", func(t *testing.T) {
		d, err := Decode(forge(hdr, `{"exp":9223372036854775807,"nbf":1e300,"iat":9007199254740991}`, rs))
		require.NoError(t, err)
		assert.Equal(t, []string{"iat"}, slices.Collect(maps.Keys(d.Dates)))
	})
}

// TestVerifyErrorQuotesTokenText (issue 10.8): names and values from a token
// reach an error string quoted or escaped: no ESC, BEL, C1 control, bidi
// override, line or paragraph separator, and no line break but the ones
// between problems.
func TestVerifyErrorQuotesTokenText(t *testing.T) {
	claims := `{"iss":"tenant.eu.qlikcloud.com","aud":"\u001b[2J\n","sub":"a","subType":"u` + "\u009b31m\u202e" + `",` +
		`"name":"N","email":"n@example.com","email_verified":"\u001b]0;x\u0007` + "\u2028" + `","jti":"j",` +
		`"iat":1795953600,"nbf":1795953595,"exp":1795953900,"groups":[1,"` + "\u0085" + `"],` +
		`"\u001b[1mdup\n":1,"\u001b[1mdup\n":2}`
	_, err := newTestCloudVerifier(t).Verify(forge(`{"alg":"RS256","kid":"kid-1\u001b[0m","typ":"JWT"}`, claims, rsaSign(testKey(t), crypto.SHA256)))
	require.Error(t, err)
	msg := err.Error()
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\u2028", "\u0085", "\n\n"} {
		assert.NotContains(t, msg, bad)
	}
	for _, line := range strings.Split(msg, "\n")[1:] {
		assert.True(t, strings.HasPrefix(line, "\t"), "a line of its own per problem, none from the token: %q", line)
	}
	for _, want := range []string{
		`"\x1b[1mdup\n": is given twice`,
		`header.kid: is "kid-1\x1b[0m"`,
		`aud: is "\x1b[2J\n"`,
		`subType: is "u\u009b31m\u202e"`,
		`email_verified: is the string "\u001b]0;x\u0007\u2028"`,
		`groups: is an array [1,"\u0085"]`,
	} {
		assert.Contains(t, msg, want)
	}
}

// TestVerifyErrorCapsTheList (issue 10.8): a token of 63 KB holding
// thousands of names twice gives an error string of a few lines; every
// problem stays in Problems. One name given thousands of times is one
// problem.
func TestVerifyErrorCapsTheList(t *testing.T) {
	body := strings.TrimSuffix(claimsJSON(t, cloudClaimsOK, nil), "}")
	rs := rsaSign(testKey(t), crypto.SHA256)
	var b strings.Builder
	b.WriteString(body)
	names := 0
	for ; b.Len() < 47*1024; names++ {
		fmt.Fprintf(&b, `,"a%d":1,"a%d":2`, names, names)
	}
	b.WriteString("}")
	token := forge(cloudHeaderOK, b.String(), rs)
	require.Greater(t, len(token), 63*1000, "63 KB, as in the issue")
	require.LessOrEqual(t, len(token), maxTokenSize)

	_, err := newTestCloudVerifier(t).Verify(token)
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Problems, names, "every name given twice is a problem")
	assert.Greater(t, names, 2500)
	msg := err.Error()
	assert.Less(t, len(msg), 3000, "the error string stays small")
	assert.Equal(t, maxListed+2, strings.Count(msg, "\n")+1, "a summary, 20 problems, and a count")
	assert.True(t, strings.HasSuffix(msg, fmt.Sprintf("\n\tand %d more", names-maxListed)), msg[len(msg)-40:])
	assert.True(t, strings.HasPrefix(msg, fmt.Sprintf("qsjwt: token refused: Qlik Cloud would refuse it: %d problems", names)), msg[:80])

	b.Reset()
	b.WriteString(body)
	for b.Len() < 47*1024 {
		b.WriteString(`,"a":1`)
	}
	b.WriteString("}")
	_, err = newTestCloudVerifier(t).Verify(forge(cloudHeaderOK, b.String(), rs))
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 1, "one name, one problem")
	assert.Equal(t, fmt.Sprintf("is given %d times; JWT parsers disagree about which one counts, so give each name once", strings.Count(b.String(), `"a"`)), ve.Problems[0].Rule)
}

// TestProblemOption (issue 11.6): a problem the verifier's configuration
// may cause names the option (or "key") that sets it; a problem in the
// token names none; no rule text names a Go option.
func TestProblemOption(t *testing.T) {
	rs := rsaSign(testKey(t), crypto.SHA256)
	options := func(err error) map[string]string {
		var ve *VerifyError
		require.ErrorAs(t, err, &ve)
		out := map[string]string{}
		for _, p := range ve.Problems {
			out[p.Claim] = p.Option
			assert.NotContains(t, p.Rule, "With", "rule text names no Go option: %s", p.Rule)
		}
		return out
	}
	claims := claimsJSON(t, cloudClaimsOK, func(m map[string]any) {
		m["iss"], m["aud"], m["subType"] = "other", "qlik.api", "client"
		delete(m, "jti")
	})
	_, err := newTestCloudVerifier(t).Verify(forge(`{"alg":"RS256","kid":"kid-2","typ":"JWT"}`, claims, rs))
	assert.Equal(t, map[string]string{"header.kid": "WithKeyID", "iss": "WithIssuer", "aud": "", "subType": "", "jti": ""}, options(err))

	_, err = newTestCloudVerifier(t).Verify(forge(cloudHeaderOK, claimsJSON(t, cloudClaimsOK, nil), rsaSign(anotherKey(t), crypto.SHA256)))
	assert.Equal(t, map[string]string{"signature": "key"}, options(err))

	claims = claimsJSON(t, qseowClaimsOK, func(m map[string]any) { m["aud"], m["group"] = "other", "g"; delete(m, "userDirectory") })
	_, err = newTestQSEoWVerifier(t, WithAudience("proxy-aud")).Verify(forge(`{"alg":"RS256"}`, claims, rs))
	assert.Equal(t, map[string]string{"aud": "WithAudience", "userDirectory": "WithUserDirectoryClaim", "group": "WithGroupsClaim"}, options(err))

	p := Problem{Claim: "iss", Rule: "is wrong", Option: "WithIssuer"}
	assert.Equal(t, "iss: is wrong (WithIssuer)", p.String())
	p = Problem{Claim: "signature", Rule: "does not verify", Option: "key", Warning: true}
	assert.Equal(t, "warning: signature: does not verify", p.String(), `"key" is said by the rule`)
}
