package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tokens in testdata were made with openssl alone for the tests' clock.
var (
	cloudJWT     = fixture("test-only-cloud-openssl.jwt")       // a good Qlik Cloud token: iss tenant.eu.qlikcloud.com, kid kid-1
	otherToolJWT = fixture("test-only-cloud-othertool.jwt")     // the mistakes other tools make
	qseowJWT     = fixture("test-only-qseow-openssl-rs512.jwt") // claims user and directory, aud qlik-sense
	cloudIdP     = []string{"--expected-issuer", "tenant.eu.qlikcloud.com", "--keyid", "kid-1"}
)

func TestDecodeWithoutKey(t *testing.T) {
	raw := strings.TrimSpace(readFixture(t, "test-only-cloud-openssl.jwt"))
	for name, o := range map[string]struct {
		opts runOpts
		args []string
	}{
		"--jwt":        {runOpts{}, []string{"--jwt", raw}},
		"--jwt-file":   {runOpts{}, []string{"--jwt-file", cloudJWT}},
		"--jwt-file -": {runOpts{stdin: raw + "\n"}, []string{"--jwt-file", "-"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := qs(t, o.opts, append([]string{"decode"}, o.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			for _, want := range []string{"UNVERIFIED", `kid  "kid-1"`, `sub             "anna-42"`,
				"exp             1795953900  (2026-11-29T12:05:00Z)", "email_verified  true", "verdict:   not checked"} {
				assert.Contains(t, r.stdout, want)
			}
		})
	}

	r := qsArgs(t, "decode", "--jwt-file", cloudJWT, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var out map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.Equal(t, "true", string(out["unverified"]))
	var claims, dates map[string]any
	require.NoError(t, json.Unmarshal(out["claims"], &claims))
	require.NoError(t, json.Unmarshal(out["dates"], &dates))
	assert.Equal(t, "anna-42", claims["sub"])
	assert.Equal(t, true, claims["email_verified"])
	assert.Equal(t, "2026-11-29T12:05:00Z", dates["exp"])
	assert.NotContains(t, out, "variant")
	assert.NotContains(t, out, "accepted")
}

func TestDecodeVerify(t *testing.T) {
	jwk := func() string {
		pub := certKey(t, certPath)
		b64 := base64.RawURLEncoding.EncodeToString
		return `{"kty":"RSA","n":"` + b64(pub.N.Bytes()) + `","e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `"}`
	}()
	jwkFile := t.TempDir() + "/key.jwk"
	require.NoError(t, os.WriteFile(jwkFile, []byte(jwk), 0o600))
	tests := []struct {
		name   string
		opts   runOpts
		args   []string
		stdout []string
		stderr []string
	}{
		{"cloud", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey-file", certPath, "--variant", "cloud"}, cloudIdP...),
			[]string{"signature: verified with the given key", "verdict:   Qlik Cloud would accept this token"}, nil},
		{"cloud worked out from the flags", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey-file", certPath}, cloudIdP...),
			[]string{"Qlik Cloud would accept"}, nil},
		{"cloud worked out from aud", runOpts{}, []string{"--jwt-file", cloudJWT, "--cert-publickey-file", certPath},
			[]string{"Qlik Cloud would accept"}, []string{"as a Qlik Cloud token (from its aud)", "iss is not checked", "give --keyid"}},
		{"public key PEM", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey-file", fixture("test-only-rsa2048-public.pem")}, cloudIdP...),
			[]string{"would accept"}, nil},
		{"key as text", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey", readFixture(t, "test-only-rsa2048.cer")}, cloudIdP...),
			[]string{"would accept"}, nil},
		{"key on stdin", runOpts{stdin: readFixture(t, "test-only-rsa2048.cer")}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey-file", "-"}, cloudIdP...),
			[]string{"would accept"}, nil},
		{"JWK", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey-file", jwkFile}, cloudIdP...),
			[]string{"would accept"}, nil},
		{"qseow", runOpts{}, []string{"--jwt-file", qseowJWT, "--cert-publickey-file", certPath, "--variant", "qseow",
			"--userid-claim", "user", "--userdir-claim", "directory", "--expected-audience", "qlik-sense"},
			[]string{"QSEoW would accept", `user       "anna"`}, nil},
		{"qseow worked out from the flags", runOpts{}, []string{"--jwt-file", qseowJWT, "--cert-publickey-file", certPath,
			"--userid-claim", "user", "--userdir-claim", "directory"}, []string{"QSEoW would accept"}, nil},
		{"json", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey-file", certPath, "--json"}, cloudIdP...),
			[]string{`"variant": "cloud"`, `"accepted": true`, `"unverified": false`, `"problems": []`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, tc.opts, append([]string{"decode"}, tc.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			for _, want := range tc.stdout {
				assert.Contains(t, r.stdout, want)
			}
			for _, want := range tc.stderr {
				assert.Contains(t, r.stderr, want)
			}
			if tc.stderr == nil {
				assert.Empty(t, r.stderr)
			}
		})
	}
}

func TestDecodeRefused(t *testing.T) {
	good := strings.TrimSpace(readFixture(t, "test-only-cloud-openssl.jwt"))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]
	expired := signStdlib(t, `{"alg":"RS256","kid":"kid-1","typ":"JWT"}`,
		`{"iss":"tenant.eu.qlikcloud.com","aud":"qlik.api/login/jwt-session","sub":"a","subType":"user","name":"N","email":"n@example.com","email_verified":true,"jti":"j","iat":1795950000,"nbf":1795950000,"exp":1795950300}`)
	key := []string{"--cert-publickey-file", certPath}

	tests := []struct {
		name  string
		args  []string
		lines []string // error lines expected on stderr, each whole
	}{
		{"other tool's token", append(append([]string{"--jwt-file", otherToolJWT}, key...), cloudIdP...), []string{
			`qs-jwt: claim "aud": is an array ["qlik.api/login/jwt-session"], not a string; Qlik Cloud needs the login audience "qlik.api/login/jwt-session" as a plain string (in the token)`,
			`qs-jwt: claim "email_verified": is the string "true"; Qlik Cloud needs the JSON boolean true or false, not a string (in the token)`,
			`qs-jwt: claim "jti": is missing; Qlik Cloud needs a unique ID per token (and refuses one it has seen) (in the token)`,
			`qs-jwt: claim "nbf": is missing; Qlik Cloud refuses a token without it (INTERNAL-TOKEN-1 Missing required claim: nbf) (in the token)`,
			`qs-jwt: claim "exp": exp - iat is 31536000 s (365 days); Qlik Cloud allows at most 3600 s (in the token)`,
			`qs-jwt: warning: claim "group": is ignored: Qlik Cloud reads "groups" (plural), so the user gets none of these groups; rename the claim (in the token)`,
		}},
		{"wrong issuer and key ID", append([]string{"--jwt-file", cloudJWT, "--expected-issuer", "other", "--keyid", "kid-2"}, key...), []string{
			`qs-jwt: header "kid": is "kid-1"; Qlik Cloud needs exactly the identity provider's Key ID "kid-2" (--keyid)`,
			`qs-jwt: claim "iss": is "tenant.eu.qlikcloud.com"; Qlik Cloud needs exactly the identity provider's issuer "other" (--expected-issuer)`,
		}},
		{"tampered", append([]string{"--jwt", tampered, "--variant", "cloud"}, append(key, cloudIdP...)...), []string{
			"qs-jwt: signature: does not verify with the given key (RSA-2048): the token was changed after it was signed, or signed with another key (--cert-publickey-file)",
		}},
		{"expired", append([]string{"--jwt", expired}, append(key, cloudIdP...)...), []string{
			`qs-jwt: claim "exp": expired at 2026-11-29T11:05:00Z; now is 2026-11-29T12:00:00Z (clock skew 5s) (in the token)`,
		}},
		{"qseow with the default claim names", append([]string{"--jwt-file", qseowJWT, "--variant", "qseow"}, key...), []string{
			`qs-jwt: claim "userId": is missing: the virtual proxy's "JWT attribute for user ID" is "userId" (--userid-claim)`,
		}},
		{"qseow audience", append([]string{"--jwt-file", qseowJWT, "--userid-claim", "user", "--userdir-claim", "directory", "--expected-audience", "other"}, key...), []string{
			`qs-jwt: claim "aud": is "qlik-sense"; the virtual proxy needs exactly its JWT audience "other" (--expected-audience)`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(append([]string{"decode"}, tc.args...), strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
			assert.Equal(t, 1, code, stderr.String())
			assert.Contains(t, stdout.String(), "would refuse this token", "decode still prints the token")
			lines := strings.Split(stderr.String(), "\n")
			for _, want := range tc.lines {
				assert.Contains(t, lines, want)
			}
			for _, l := range lines {
				if strings.HasPrefix(l, "qs-jwt: ") && !strings.HasPrefix(l, "qs-jwt: warning: ") {
					assert.Regexp(t, errLine, l)
				}
			}
			assertNoSecrets(t, stdout.String(), stderr.String())
		})
	}

	// --json carries the problems too.
	var stdout, stderr strings.Builder
	code := run([]string{"decode", "--json", "--jwt-file", otherToolJWT, "--cert-publickey-file", certPath}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	assert.Equal(t, 1, code)
	var out struct {
		Variant    string
		Accepted   bool
		Unverified bool
		Problems   []struct {
			Claim, Rule string
			Warning     bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(stdout.String()), &out))
	assert.Equal(t, "cloud", out.Variant)
	assert.False(t, out.Accepted)
	assert.False(t, out.Unverified, "the signature verified; the claims are refused")
	var claims []string
	for _, p := range out.Problems {
		claims = append(claims, p.Claim)
	}
	assert.Subset(t, claims, []string{"aud", "email_verified", "jti", "nbf", "exp", "group"})
}

func TestDecodeFailures(t *testing.T) {
	key := []string{"--cert-publickey-file", certPath}
	runFailCases(t, []string{"decode"}, []failCase{
		{"no token", runOpts{}, nil, 2, "decode needs the token", "--jwt"},
		{"two tokens", runOpts{}, []string{"--jwt", "a", "--jwt-file", "b"}, 2, "give one", "--jwt"},
		{"variant without key", runOpts{}, []string{"--jwt-file", cloudJWT, "--variant", "cloud"}, 2, "needs the certificate or public key", "--cert-publickey-file"},
		{"issuer without key", runOpts{}, []string{"--jwt-file", cloudJWT, "--expected-issuer", "I"}, 2, "needs the certificate", "--cert-publickey-file"},
		{"bad variant", runOpts{}, []string{"--jwt-file", cloudJWT, "--variant", "saas"}, 2, "give one of qseow, cloud", "--variant"},
		{"mixed variants", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--expected-audience", "a", "--keyid", "k"}, key...), 2, "for both variants", "--variant"},
		{"cloud flag with qseow", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--variant", "qseow", "--keyid", "k"}, key...), 2, "for both variants", "--variant"},
		{"two keys", runOpts{}, append([]string{"--jwt-file", cloudJWT, "--cert-publickey", "x"}, key...), 2, "give one", "--cert-publickey-file"},
		{"both on stdin", runOpts{}, []string{"--jwt-file", "-", "--cert-publickey-file", "-"}, 2, "both come from stdin", "--cert-publickey-file"},
		{"not a token", runOpts{}, []string{"--jwt", "abc"}, 1, "malformed token: token is not a compact JWS: 1 segments", "in the token"},
		{"a file to --jwt", runOpts{}, []string{"--jwt", cloudJWT}, 2, "--jwt takes the token itself, and \"../../testdata/test-only-cloud-openssl.jwt\" is a file: give it with --jwt-file", "--jwt"},
		{"Bearer prefix", runOpts{}, []string{"--jwt", "Bearer a.b.c"}, 1, `starts with "Bearer "`, "in the token"},
		{"empty stdin", runOpts{}, []string{"--jwt-file", "-"}, 1, "token is empty", "in the token"},
		{"missing token file", runOpts{}, []string{"--jwt-file", "nope.jwt"}, 1, `cannot read "nope.jwt"`, "--jwt-file"},
		{"private key as key", runOpts{}, []string{"--jwt-file", cloudJWT, "--cert-publickey-file", keyPath}, 1, "private key given where", "--cert-publickey-file"},
		{"empty JWK", runOpts{}, []string{"--jwt-file", cloudJWT, "--cert-publickey", "{}"}, 1, "", "--cert-publickey"},
	})
}

// TestDecodeTerminalInjection: names and values a token holds reach the
// terminal quoted or escaped, never as raw control characters, and a token
// made to hold thousands of problems gives at most 20 lines and a count.
func TestDecodeTerminalInjection(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"iss":"tenant.eu.qlikcloud.com","aud":"qlik.api/login/jwt-session","sub":"a","subType":"user","name":"N\u001b[2J` + "\u009b31m\u202e" + `","email":"n@example.com","email_verified":true,"jti":"j","iat":1795953600,"nbf":1795953595,"exp":1795953900`)
	b.WriteString(`,"\u001b]0;pwned\u0007\n` + "\u2028" + `x":"\u001b[31mred` + "\u0085" + `"`)
	for i := 0; i < 30; i++ { // the same name again and again: one problem; and 30 names twice: a problem each
		fmt.Fprintf(&b, `,"dup\u001b[1m":1,"d%d":1,"d%d":2`, i, i)
	}
	b.WriteString("}")
	tok := signStdlib(t, `{"alg":"RS256","kid":"kid-1","typ":"JWT"}`, b.String())

	raw := func(out string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\u2028", "\u0085"} {
			assert.NotContains(t, out, bad, "a raw control character reaches the terminal")
		}
	}
	for _, args := range [][]string{
		{"decode", "--jwt", tok},
		{"decode", "--jwt", tok, "--json"},
		append([]string{"decode", "--jwt", tok, "--cert-publickey-file", certPath}, cloudIdP...),
		append([]string{"decode", "--jwt", tok, "--cert-publickey-file", certPath, "--json"}, cloudIdP...),
	} {
		var stdout, stderr strings.Builder
		code := run(args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		r := runResult{code, stdout.String(), stderr.String()}
		assertNoSecrets(t, r.stdout, r.stderr)
		raw(r.stdout)
		raw(r.stderr)
		if strings.Contains(strings.Join(args, " "), "--json") {
			var out map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "the escaped JSON is still JSON")
			claims := out["claims"].(map[string]any)
			assert.Equal(t, "N\x1b[2J\u009b31m\u202e", claims["name"], "and means the same")
			if problems, ok := out["problems"].([]any); ok {
				assert.Len(t, problems, maxProblems, "--json lists 20 problems too")
				assert.Greater(t, out["problemsNotShown"], 0.0, "and how many more")
			}
		} else {
			assert.Contains(t, r.stdout, `\x1b]0;pwned\a\n\u2028x`, "the name, quoted")
			assert.Contains(t, r.stdout, `"N\u001b[2J\u009b31m\u202e"`, "the value, escaped")
		}
		if strings.Contains(strings.Join(args, " "), "--cert-publickey-file") {
			assert.Equal(t, 1, r.code)
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if !strings.HasPrefix(l, "qs-jwt: warning: ") {
					lines = append(lines, l)
				}
			}
			assert.LessOrEqual(t, len(lines), maxProblems+1, "at most 20 problems, then a count")
			assert.Regexp(t, `^qs-jwt: and [0-9]+ more problems not listed \(in the token\)$`, lines[len(lines)-1])
			assert.Contains(t, r.stderr, `claim "dup\x1b[1m"`, "the name from the token, quoted")
		}
	}
}

// TestDecodeSignatureLine: with a key, decode says whether the signature
// verified; it never says "decoded without a key".
func TestDecodeSignatureLine(t *testing.T) {
	good := strings.TrimSpace(readFixture(t, "test-only-cloud-openssl.jwt"))
	parts := strings.Split(good, ".")
	forged := signStdlib(t, `{"alg":"RS256","kid":"kid-1","typ":"JWT"}`, `{"sub":"x"}`)
	tampered := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."

	r := qsArgs(t, append([]string{"decode", "--jwt", good, "--cert-publickey-file", certPath}, cloudIdP...)...)
	assert.True(t, strings.HasPrefix(r.stdout, "signature: verified with the given key\n"), r.stdout)
	for name, tok := range map[string]string{"tampered": tampered, "alg none": none} {
		var stdout, stderr strings.Builder
		code := run(append([]string{"decode", "--jwt", tok, "--cert-publickey-file", certPath}, cloudIdP...), strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		r := runResult{code, stdout.String(), stderr.String()}
		assert.Equal(t, 1, r.code, name)
		assert.True(t, strings.HasPrefix(r.stdout, "signature: NOT VERIFIED with the given key"), "%s: %s", name, r.stdout)
		assert.NotContains(t, r.stdout, "without a key", name)
		assert.NotContains(t, r.stderr, "(--jwt)", "%s: the token's problems name the token", name)
	}
	r = qsArgs(t, "decode", "--jwt", good)
	assert.True(t, strings.HasPrefix(r.stdout, "UNVERIFIED: decoded without a key"), "without a key it says so")
}
