package qliktest_test

import (
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rule is one row of the table test: a token made for one row of
// docs/qlik-rules.md (its ID), and the decision that row says Qlik makes.
type rule struct {
	id, name string
	v        variant
	want     decision
	why      string // for a refusal: a claim the verifier must name ("header.alg", "token", ...)

	header, claims func(object) object // change the accepted token's header and claims
	edit           func(h, c string) (string, string)
	key            keyName       // the key that signs; "": the key Qlik holds
	keyIsQliks     bool          // Qlik holds the certificate of key too (the key-size rows)
	tolerance      time.Duration // 0: default; noTolerance: none
	audience       string
	size           int // pad the token to this many bytes: at most (accept) or at least (refuse)
}

// keyName names a key other than the one Qlik holds.
type keyName string

const (
	rsa1024  keyName = "test-only-rsa1024-pkcs8.pem"
	otherRSA keyName = "another 2048-bit key"
)

// cloudClaimsOK and qseowClaimsOK are tokens each variant accepts at start.
var (
	cloudHeaderOK = object{{"alg", q("RS256")}, {"typ", q("JWT")}, {"kid", q(qliktest.DefaultKeyID)}}
	cloudClaimsOK = object{
		{"iss", q(qliktest.DefaultIssuer)}, {"aud", q(qliktest.CloudAudience)}, {"sub", q("anna-42")}, {"subType", q("user")},
		{"name", q("Anna Andersson")}, {"email", q("anna@example.com")}, {"email_verified", "true"}, {"groups", `["Sales"]`},
		{"jti", q("jti-anna-1")}, {"iat", at(0)}, {"nbf", at(-5 * time.Second)}, {"exp", at(5 * time.Minute)},
	}
	qseowHeaderOK = object{{"alg", q("RS256")}, {"typ", q("JWT")}}
	qseowClaimsOK = object{
		{"userId", q("anna")}, {"userDirectory", q("QLIK")}, {"iat", at(0)}, {"nbf", at(-5 * time.Second)}, {"exp", at(5 * time.Minute)},
	}
)

func set(name, raw string) func(object) object {
	return func(o object) object { return o.set(name, raw) }
}
func del(name string) func(object) object { return func(o object) object { return o.del(name) } }
func dupl(name, raw string) func(object) object {
	return func(o object) object { return o.dup(name, raw) }
}
func both(fs ...func(object) object) func(object) object {
	return func(o object) object {
		for _, f := range fs {
			o = f(o)
		}
		return o
	}
}

// rules are the table: every row of docs/qlik-rules.md whose Test column
// says "both" has rows here, run through qsjwt's verifier and the emulator.
func rules() []rule {
	padPayload := func(h, c string) (string, string) { return h, c + "=" }
	spaceInHeader := func(h, c string) (string, string) { return h[:4] + " " + h[4:], c }
	stdAlphabet := func(h, c string) (string, string) { return h, c[:len(c)-1] + "+" }
	var rs []rule
	for _, v := range []variant{cloud, qseow} {
		p := map[variant]string{cloud: "C", qseow: "Q"}[v]
		id := func(s string) string { return p + "-" + s }
		rs = append(rs,
			rule{id: id("FORM-1"), name: "the accepted token", v: v, want: accept},
			rule{id: id("FORM-1"), name: "padding on the payload, signed over", v: v, want: refuse, why: "payload", edit: padPayload},
			rule{id: id("FORM-1"), name: "a space inside the header, signed over", v: v, want: refuse, why: "header", edit: spaceInHeader},
			rule{id: id("FORM-1"), name: "a + from the standard alphabet, signed over", v: v, want: refuse, why: "payload", edit: stdAlphabet},
			rule{id: id("FORM-1"), name: "five parts (JWE)", v: v, want: refuse, why: "token", edit: func(h, c string) (string, string) { return h, c + ".a.b" }},
			rule{id: id("FORM-2"), name: "65,536 bytes", v: v, want: accept, size: 64 << 10},
			rule{id: id("FORM-2"), name: "65,537 bytes", v: v, want: refuse, why: "token", size: 64<<10 + 1},
			rule{id: id("FORM-3"), name: "alg twice in the header", v: v, want: refuse, why: "header.alg", header: dupl("alg", q("RS256"))},
			rule{id: id("FORM-4"), name: "crit", v: v, want: refuse, why: "header.crit", header: set("crit", `["exp"]`)},
			rule{id: id("FORM-4"), name: "b64 false", v: v, want: refuse, why: "header.b64", header: set("b64", "false")},
			rule{id: id("ALG-1"), name: "HS256", v: v, want: refuse, why: "header.alg", header: set("alg", q("HS256"))},
			rule{id: id("ALG-1"), name: "none", v: v, want: refuse, why: "header.alg", header: set("alg", q("none"))},
			rule{id: id("ALG-1"), name: "PS256, correctly signed", v: v, want: refuse, why: "header.alg", header: set("alg", q("PS256"))},
			rule{id: id("ALG-1"), name: "no alg", v: v, want: refuse, why: "header.alg", header: del("alg")},
			rule{id: id("KEY-1"), name: "a 1024-bit key", v: v, want: refuseSetting, key: rsa1024, keyIsQliks: true},
			rule{id: id("SIG-1"), name: "signed by another key", v: v, want: refuse, why: "signature", key: otherRSA},
			rule{id: id("TIME-2"), name: "exp with a fraction", v: v, want: refuse, why: "exp", claims: set("exp", at(5*time.Minute)+".5")},
			rule{id: id("TIME-2"), name: "exp a whole number written 1.0", v: v, want: refuse, why: "exp", claims: set("exp", at(5*time.Minute)+".0")},
			rule{id: id("TIME-2"), name: "nbf with an exponent", v: v, want: refuse, why: "nbf", claims: set("nbf", "1.7e9")},
			rule{id: id("TIME-2"), name: "iat a string", v: v, want: refuse, why: "iat", claims: set("iat", q(at(0)))},
			rule{id: id("TIME-2"), name: "exp null", v: v, want: refuse, why: "exp", claims: set("exp", "null")},
			rule{id: id("TIME-7"), name: "nbf 2^63-1: far future, not a wrap to the past", v: v, want: refuse, why: "nbf", claims: set("nbf", "9223372036854775807")},
			rule{id: id("TIME-7"), name: "exp above 2^63", v: v, want: refuse, why: "exp", claims: set("exp", "9223372036854775808")},
			rule{id: id("TIME-7"), name: "exp 2^53", v: v, want: refuse, why: "exp", claims: set("exp", "9007199254740992")},
		)
	}
	rs = append(rs,
		// QSEoW
		rule{id: "Q-FORM-3", name: "userId twice, same value", v: qseow, want: refuse, why: "userId", claims: dupl("userId", q("anna"))},
		rule{id: "Q-ALG-1", name: "RS384", v: qseow, want: accept, header: set("alg", q("RS384"))},
		rule{id: "Q-ALG-1", name: "RS512", v: qseow, want: accept, header: set("alg", q("RS512"))},
		rule{id: "Q-KID-1", name: "any kid", v: qseow, want: accept, header: set("kid", q("anything"))},
		rule{id: "Q-USER-1", name: "no userId", v: qseow, want: refuse, why: "userId", claims: del("userId")},
		rule{id: "Q-USER-1", name: "userid, not userId", v: qseow, want: refuse, why: "userId", claims: both(del("userId"), set("userid", q("anna")))},
		rule{id: "Q-USER-1", name: "userId a number", v: qseow, want: refuse, why: "userId", claims: set("userId", "7")},
		rule{id: "Q-USER-1", name: "userDirectory null", v: qseow, want: refuse, why: "userDirectory", claims: set("userDirectory", "null")},
		rule{id: "Q-USER-2", name: "userId empty", v: qseow, want: refuse, why: "userId", claims: set("userId", q(""))},
		rule{id: "Q-USER-2", name: "userDirectory with a leading space", v: qseow, want: refuse, why: "userDirectory", claims: set("userDirectory", q(" QLIK"))},
		rule{id: "Q-USER-2", name: "userId with a backslash", v: qseow, want: refuse, why: "userId", claims: set("userId", q(`QLIK\anna`))},
		rule{id: "Q-AUD-1", name: "no audience set: aud an array", v: qseow, want: accept, claims: set("aud", `["x"]`)},
		rule{id: "Q-AUD-1", name: "audience set: the same string", v: qseow, want: accept, audience: "qsjwt-rules", claims: set("aud", q("qsjwt-rules"))},
		rule{id: "Q-AUD-1", name: "audience set: an array of it", v: qseow, want: refuse, why: "aud", audience: "qsjwt-rules", claims: set("aud", `["qsjwt-rules"]`)},
		rule{id: "Q-AUD-1", name: "audience set: another string", v: qseow, want: refuse, why: "aud", audience: "qsjwt-rules", claims: set("aud", q("other"))},
		rule{id: "Q-AUD-1", name: "audience set: no aud", v: qseow, want: refuse, why: "aud", audience: "qsjwt-rules"},
		rule{id: "Q-TIME-1", name: "no exp", v: qseow, want: accept, claims: del("exp")},
		rule{id: "Q-TIME-1", name: "no nbf", v: qseow, want: accept, claims: del("nbf")},
		rule{id: "Q-TIME-1", name: "expired 5 s ago", v: qseow, want: refuse, why: "exp", claims: set("exp", at(-5*time.Second))},
		rule{id: "Q-TIME-1", name: "nbf 6 s ahead", v: qseow, want: refuse, why: "nbf", claims: set("nbf", at(6*time.Second))},
		rule{id: "Q-TIME-3", name: "nbf == exp, inside the tolerance", v: qseow, want: refuse, why: "exp", claims: both(set("nbf", at(2*time.Second)), set("exp", at(2*time.Second)))},
		rule{id: "Q-TIME-4", name: "iat an hour ahead", v: qseow, want: accept, claims: set("iat", at(time.Hour))},
		rule{id: "Q-TIME-5", name: "expired 4 s ago, default tolerance", v: qseow, want: accept, claims: set("exp", at(-4*time.Second))},
		rule{id: "Q-TIME-5", name: "no tolerance, exp now", v: qseow, want: refuse, why: "exp", tolerance: noTolerance, claims: set("exp", at(0))},
		rule{id: "Q-TIME-5", name: "tolerance 7,200 s, expired 7,000 s ago", v: qseow, want: accept, tolerance: 2 * time.Hour,
			claims: both(set("iat", at(-7100*time.Second)), set("nbf", at(-7100*time.Second)), set("exp", at(-7000*time.Second)))},
		rule{id: "Q-TIME-5", name: "tolerance 7,201 s", v: qseow, want: refuseSetting, tolerance: 7201 * time.Second},
		rule{id: "Q-GRP-1", name: "group a string", v: qseow, want: accept, claims: set("group", q("Sales"))},
		rule{id: "Q-GRP-1", name: "groups a number", v: qseow, want: accept, claims: set("groups", "5")},

		// Qlik Cloud
		rule{id: "C-FORM-3", name: "sub twice, different values", v: cloud, want: refuse, why: "sub", claims: dupl("sub", q("admin"))},
		rule{id: "C-ALG-1", name: "RS384", v: cloud, want: refuse, why: "header.alg", header: set("alg", q("RS384"))},
		rule{id: "C-ALG-1", name: "RS512", v: cloud, want: refuse, why: "header.alg", header: set("alg", q("RS512"))},
		rule{id: "C-KID-1", name: "no kid", v: cloud, want: refuse, why: "header.kid", header: del("kid")},
		rule{id: "C-KID-1", name: "another kid", v: cloud, want: refuse, why: "header.kid", header: set("kid", q("other"))},
		rule{id: "C-KID-1", name: "kid a number", v: cloud, want: refuse, why: "header.kid", header: set("kid", "1")},
		rule{id: "C-TYP-1", name: "no typ", v: cloud, want: accept, header: del("typ")},
		rule{id: "C-TYP-1", name: "typ at+jwt", v: cloud, want: accept, header: set("typ", q("at+jwt"))},
		rule{id: "C-ISS-1", name: "another issuer", v: cloud, want: refuse, why: "iss", claims: set("iss", q("other"))},
		rule{id: "C-AUD-1", name: "aud an array of the right string", v: cloud, want: refuse, why: "aud", claims: set("aud", `["`+qliktest.CloudAudience+`"]`)},
		rule{id: "C-AUD-1", name: "another aud", v: cloud, want: refuse, why: "aud", claims: set("aud", q("qlik.api"))},
		rule{id: "C-AUD-1", name: "no aud", v: cloud, want: refuse, why: "aud", claims: del("aud")},
		rule{id: "C-USER-1", name: "no sub", v: cloud, want: refuse, why: "sub", claims: del("sub")},
		rule{id: "C-USER-1", name: "sub empty", v: cloud, want: refuse, why: "sub", claims: set("sub", q(""))},
		rule{id: "C-USER-1", name: "sub a number", v: cloud, want: refuse, why: "sub", claims: set("sub", "42")},
		rule{id: "C-USER-1", name: "no name", v: cloud, want: refuse, why: "name", claims: del("name")},
		rule{id: "C-USER-1", name: "no email", v: cloud, want: refuse, why: "email", claims: del("email")},
		rule{id: "C-USER-1", name: "email without @", v: cloud, want: accept, claims: set("email", q("anna"))},
		rule{id: "C-USER-1", name: "sub with a leading space", v: cloud, want: accept, claims: set("sub", q(" anna-42"))},
		rule{id: "C-SUBTYPE-1", name: "subType client", v: cloud, want: refuse, why: "subType", claims: set("subType", q("client"))},
		rule{id: "C-SUBTYPE-1", name: "no subType", v: cloud, want: refuse, why: "subType", claims: del("subType")},
		rule{id: "C-EV-1", name: "no email_verified", v: cloud, want: refuse, why: "email_verified", claims: del("email_verified")},
		rule{id: "C-EV-1", name: "email_verified null", v: cloud, want: refuse, why: "email_verified", claims: set("email_verified", "null")},
		rule{id: "C-EV-1", name: `email_verified "true"`, v: cloud, want: refuse, why: "email_verified", claims: set("email_verified", q("true"))},
		rule{id: "C-EV-1", name: "email_verified 1", v: cloud, want: refuse, why: "email_verified", claims: set("email_verified", "1")},
		rule{id: "C-EV-1", name: "email_verified false", v: cloud, want: accept, claims: set("email_verified", "false")},
		rule{id: "C-GRP-1", name: "groups a string", v: cloud, want: refuse, why: "groups", claims: set("groups", q("Sales"))},
		rule{id: "C-GRP-1", name: "groups null", v: cloud, want: refuse, why: "groups", claims: set("groups", "null")},
		rule{id: "C-GRP-1", name: "groups of numbers", v: cloud, want: refuse, why: "groups", claims: set("groups", "[1,2]")},
		rule{id: "C-GRP-1", name: "groups empty", v: cloud, want: accept, claims: set("groups", "[]")},
		rule{id: "C-GRP-1", name: "no groups", v: cloud, want: accept, claims: del("groups")},
		rule{id: "C-GRP-1", name: "an empty group name", v: cloud, want: accept, claims: set("groups", `["","Sales"]`)},
		rule{id: "C-GRP-2", name: "group, not groups", v: cloud, want: accept, claims: both(del("groups"), set("group", `["Sales"]`))},
		rule{id: "C-JTI-1", name: "jti a number (Qlik Support's example)", v: cloud, want: accept, claims: set("jti", "17111234567")},
		rule{id: "C-JTI-1", name: "jti null", v: cloud, want: refuse, why: "jti", claims: set("jti", "null")},
		rule{id: "C-JTI-1", name: "jti empty", v: cloud, want: refuse, why: "jti", claims: set("jti", q(""))},
		rule{id: "C-JTI-1", name: "jti true", v: cloud, want: refuse, why: "jti", claims: set("jti", "true")},
		rule{id: "C-JTI-1", name: "jti an object", v: cloud, want: refuse, why: "jti", claims: set("jti", `{"id":1}`)},
		rule{id: "C-JTI-1", name: "no jti", v: cloud, want: refuse, why: "jti", claims: del("jti")},
		rule{id: "C-TIME-1", name: "no iat", v: cloud, want: refuse, why: "iat", claims: del("iat")},
		rule{id: "C-TIME-1", name: "no nbf", v: cloud, want: refuse, why: "nbf", claims: del("nbf")},
		rule{id: "C-TIME-1", name: "no exp", v: cloud, want: refuse, why: "exp", claims: del("exp")},
		rule{id: "C-TIME-3", name: "exp - nbf = exp - iat = 3,600 s", v: cloud, want: accept,
			claims: both(set("iat", at(-10*time.Second)), set("nbf", at(-10*time.Second)), set("exp", at(3590*time.Second)))},
		rule{id: "C-TIME-3", name: "exp - nbf = 3,601 s", v: cloud, want: refuse, why: "exp",
			claims: both(set("iat", at(-10*time.Second)), set("nbf", at(-11*time.Second)), set("exp", at(3590*time.Second)))},
		rule{id: "C-TIME-3", name: "exp - iat = 3,601 s, exp - nbf = 3,600 s", v: cloud, want: refuse, why: "exp",
			claims: both(set("iat", at(-11*time.Second)), set("nbf", at(-10*time.Second)), set("exp", at(3590*time.Second)))},
		rule{id: "C-TIME-4", name: "nbf == exp, inside the tolerance", v: cloud, want: refuse, why: "exp", claims: both(set("nbf", at(2*time.Second)), set("exp", at(2*time.Second)))},
		rule{id: "C-TIME-4", name: "nbf after exp", v: cloud, want: refuse, why: "exp", claims: both(set("nbf", at(3*time.Second)), set("exp", at(2*time.Second)))},
		rule{id: "C-TIME-5", name: "iat a minute ahead", v: cloud, want: accept, claims: set("iat", at(time.Minute))},
		rule{id: "C-TIME-6", name: "expired 4 s ago, default tolerance", v: cloud, want: accept, claims: set("exp", at(-4*time.Second))},
		rule{id: "C-TIME-6", name: "expired 5 s ago, default tolerance", v: cloud, want: refuse, why: "exp", claims: set("exp", at(-5*time.Second))},
		rule{id: "C-TIME-6", name: "nbf 5 s ahead, default tolerance", v: cloud, want: accept, claims: set("nbf", at(5*time.Second))},
		rule{id: "C-TIME-6", name: "nbf 6 s ahead, default tolerance", v: cloud, want: refuse, why: "nbf", claims: set("nbf", at(6*time.Second))},
		rule{id: "C-TIME-6", name: "no tolerance, exp now", v: cloud, want: refuse, why: "exp", tolerance: noTolerance, claims: set("exp", at(0))},
		rule{id: "C-TIME-6", name: "no tolerance, exp in a second", v: cloud, want: accept, tolerance: noTolerance, claims: set("exp", at(time.Second))},
		rule{id: "C-TIME-6", name: "tolerance 7,200 s, expired 7,000 s ago", v: cloud, want: accept, tolerance: 2 * time.Hour,
			claims: both(set("iat", at(-7100*time.Second)), set("nbf", at(-7100*time.Second)), set("exp", at(-7000*time.Second)))},
		rule{id: "C-TIME-6", name: "tolerance 7,201 s", v: cloud, want: refuseSetting, tolerance: 7201 * time.Second},
	)
	return rs
}

// TestRules runs every token of rules() through qsjwt's verifier and the
// emulator, and requires both to decide as docs/qlik-rules.md says.
func TestRules(t *testing.T) {
	qlikKey := readKey(t, "test-only-rsa2048-pkcs8.pem")
	qlikCert := certificate(t, qlikKey)
	keys := map[keyName]*rsa.PrivateKey{rsa1024: readKey(t, string(rsa1024)), otherRSA: otherKey(t)}

	for _, r := range rules() {
		t.Run(r.id+"/"+string(r.v)+"/"+r.name, func(t *testing.T) {
			s := setting{cert: qlikCert, tolerance: r.tolerance, audience: r.audience}
			signer := qlikKey
			if r.key != "" {
				signer = keys[r.key]
				if r.keyIsQliks {
					s.cert = certificate(t, signer)
				}
			}
			tok := r.token(t, signer)

			got, why, err := verifierDecides(r.v, s, tok)
			assert.Equal(t, r.want, got, "qsjwt's verifier: %v", err)
			if r.want == refuse && got == refuse && r.why != "" {
				assert.Contains(t, why, r.why, "the verifier names the rule: %v", err)
			}

			e := startEmulator(r.v, s)
			defer e.Close()
			got, qe := e.login(t, tok)
			assert.Equal(t, r.want, got, "the emulator: %d %s %s", qe.Status, qe.Code, qe.Detail)
		})
	}
}

// token builds the row's token: the variant's accepted token, changed as
// the row says, padded to size when it has one.
func (r rule) token(t *testing.T, key *rsa.PrivateKey) string {
	h, c := cloudHeaderOK, cloudClaimsOK
	if r.v == qseow {
		h, c = qseowHeaderOK, qseowClaimsOK
	}
	if r.header != nil {
		h = r.header(h)
	}
	if r.claims != nil {
		c = r.claims(c)
	}
	if r.size == 0 {
		return sign(t, key, h, c, r.edit)
	}
	// A token's length grows with the payload in steps of one or two
	// characters: take the longest at most size to accept, the shortest at
	// least size to refuse.
	base := len(sign(t, key, h, c.set("pad", q("")), r.edit))
	var best string
	for n := max(0, (r.size-base)*3/4-8); ; n++ {
		tok := sign(t, key, h, c.set("pad", q(strings.Repeat("x", n))), r.edit)
		if r.want == accept && len(tok) > r.size || r.want != accept && len(tok) >= r.size {
			if r.want != accept {
				best = tok
			}
			break
		}
		best = tok
	}
	require.InDelta(t, r.size, len(best), 1, "the padded token is %d bytes", len(best))
	return best
}

// builderRules hold qsjwt's builders to the same rows: what a builder
// refuses, Qlik refuses; what it makes, the verifier and the emulator accept.
func builderRules() []builderRow {
	anna := qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true, Groups: []string{"Sales"}}
	qanna := qsjwt.QSEoWUser{UserDirectory: "QLIK", UserID: "anna"}
	noSub := anna
	noSub.Subject = ""
	backslash := qanna
	backslash.UserID = `QLIK\anna`
	return []builderRow{
		{id: "C-FORM-1", name: "qsjwt.NewCloud's token", v: cloud, want: accept, cloud: anna},
		{id: "C-TIME-3", name: "qsjwt.NewCloud with WithTTL(55m)", v: cloud, want: accept, ttl: 55 * time.Minute, cloud: anna},
		{id: "C-TIME-3", name: "qsjwt.NewCloud with WithTTL(2h)", v: cloud, want: refuseSetting, ttl: 2 * time.Hour, cloud: anna},
		{id: "C-KEY-1", name: "qsjwt.NewCloud with a 1024-bit key", v: cloud, want: refuseSetting, key: rsa1024, cloud: anna},
		{id: "C-USER-1", name: "qsjwt's Cloud.Sign with no Subject", v: cloud, want: refuse, cloud: noSub},
		{id: "Q-FORM-1", name: "qsjwt.NewQSEoW's token", v: qseow, want: accept, qseow: qanna},
		{id: "Q-ALG-1", name: "qsjwt.NewQSEoW with WithAlgorithm(RS512)", v: qseow, want: accept, alg: qsjwt.RS512, qseow: qanna},
		{id: "Q-KEY-1", name: "qsjwt.NewQSEoW with a 1024-bit key", v: qseow, want: refuseSetting, key: rsa1024, qseow: qanna},
		{id: "Q-USER-2", name: "qsjwt's QSEoW.Sign with a backslash in UserID", v: qseow, want: refuse, qseow: backslash},
	}
}

func TestRulesBuilders(t *testing.T) {
	qlikKey := readKey(t, "test-only-rsa2048-pkcs8.pem")
	qlikCert := certificate(t, qlikKey)
	for _, b := range builderRules() {
		t.Run(b.id+"/"+string(b.v)+"/"+b.name, func(t *testing.T) {
			key := qlikKey
			if b.key != "" {
				key = readKey(t, string(b.key))
			}
			tok, got, err := build(b, key)
			require.Equal(t, b.want, got, "qsjwt's builder: %v", err)
			if got != accept {
				return
			}
			s := setting{cert: qlikCert}
			d, _, err := verifierDecides(b.v, s, tok)
			assert.Equal(t, accept, d, "qsjwt's verifier on the builder's token: %v", err)
			e := startEmulator(b.v, s)
			defer e.Close()
			d, qe := e.login(t, tok)
			assert.Equal(t, accept, d, "the emulator on the builder's token: %d %s %s", qe.Status, qe.Code, qe.Detail)
		})
	}
}

// emulatorRules are the rows only the emulator can check (Test column
// "emulator" in docs/qlik-rules.md).
var emulatorRules = map[string]func(t *testing.T){
	"C-JTI-2": func(t *testing.T) {
		key := readKey(t, "test-only-rsa2048-pkcs8.pem")
		e := startEmulator(cloud, setting{cert: certificate(t, key)})
		defer e.Close()
		tok := sign(t, key, cloudHeaderOK, cloudClaimsOK, nil)
		got, _ := e.login(t, tok)
		require.Equal(t, accept, got, "the first use")
		got, qe := e.login(t, tok)
		assert.Equal(t, refuse, got, "the same jti again: %s %s", qe.Code, qe.Detail)
		got, _ = e.login(t, sign(t, key, cloudHeaderOK, cloudClaimsOK.set("jti", "17111234567"), nil))
		require.Equal(t, accept, got, "a numeric jti, first use")
		got, _ = e.login(t, sign(t, key, cloudHeaderOK, cloudClaimsOK.set("jti", "17111234567").set("sub", q("bob")), nil))
		assert.Equal(t, refuse, got, "a numeric jti again, in another token")
	},
	"S-WS-2": func(t *testing.T) {
		p := qliktest.NewQSEoW(qliktest.QSEoWConfig{Now: qliktest.NewClock(start).Now, AllowedOrigins: []string{"https://mashup.example.com"}})
		defer p.Close()
		resp, _, qe := call(t, p, "qps/csrftoken", sign(t, p.Key, qseowHeaderOK, qseowClaimsOK, nil))
		require.Equal(t, http.StatusOK, resp.StatusCode, qe.Detail)
		ws := strings.Replace(p.ProxyURL, "https", "wss", 1) + "/app/app-1?qlik-csrf-token=" + resp.Header.Get("qlik-csrf-token")
		cookie := resp.Cookies()[0]
		for origin, want := range map[string]int{
			"":                           http.StatusSwitchingProtocols, // Qlik's own Node client sends none
			p.URL:                        http.StatusSwitchingProtocols,
			"https://mashup.example.com": http.StatusSwitchingProtocols,
			"https://evil.example.com":   http.StatusForbidden,
		} {
			h := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}
			if origin != "" {
				h.Set("Origin", origin)
			}
			status, _ := wsUpgrade(t, p.Client(), ws, h)
			assert.Equal(t, want, status, "Origin %q", origin)
		}
	},
}

func TestRulesEmulatorOnly(t *testing.T) {
	for id, run := range emulatorRules {
		t.Run(id, run)
	}
}
