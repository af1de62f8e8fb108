package cli

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/qsjwt/qsjwt"
)

// tokenRef ends the line of a problem inside the token: no flag of
// decode's fixes it; whoever made the token does.
const tokenRef = "in the token"

// maxProblems caps the problems decode lists: a token can be made to have
// thousands (duplicate claim names), and each is a line.
const maxProblems = 20

// problemFlag is the flag of decode's that fixes a problem: the flag of the
// verifier option the problem names (Problem.Option), the flag that gave the
// key for "key", and tokenRef for a problem in the token itself.
func problemFlag(p qsjwt.Problem, keyFlag string) string {
	switch flag := optionFlagsOf(p.Option).decode; flag {
	case "":
		return tokenRef
	case "--cert-publickey-file":
		return keyFlag
	default:
		return flag
	}
}

// problemSubject names what a problem is about, quoting names that come
// from the token: claim "userId", header "kid", signature.
func problemSubject(claim string) string {
	switch claim {
	case "token", "header", "payload", "signature":
		return claim
	}
	if name, ok := strings.CutPrefix(claim, "header."); ok {
		return "header " + Quote(name)
	}
	return "claim " + Quote(claim)
}

func runDecode(e *Env, args []string) error {
	fs := NewFlagSet("decode")
	var (
		jwt, jwtFile, keyFile, keyText, variant string
		audience, issuer, keyid                 string
		userIDClaim, userDirClaim, groupsClaim  string
		asJSON                                  bool
	)
	fs.StringVar(&jwt, "jwt", "", "the `token`")
	fs.StringVar(&jwtFile, "jwt-file", "", "`file` holding the token; - reads stdin")
	fs.StringVar(&keyFile, "cert-publickey-file", "", "certificate or public key `file` (PEM, or a JWK) to verify with; - reads stdin")
	fs.StringVar(&keyText, "cert-publickey", "", "the certificate or public key itself (PEM)")
	var pfx PFXFlags
	pfx.Add(fs, "a PFX (PKCS #12) `file`, as the QMC exports it, whose certificate checks the token")
	fs.Var(&ChoiceValue{v: &variant, choices: []string{"qseow", "cloud", "oauth"}}, "variant",
		"which Qlik checks the token: qseow, cloud, or oauth (a client assertion; the key a JWK) (default: worked out from the token's aud)")
	fs.StringVar(&audience, "expected-audience", "", "qseow: the virtual proxy's JWT `audience`; aud must equal it")
	fs.StringVar(&issuer, "expected-issuer", "", "cloud: the identity provider's `issuer`; iss must equal it (default: not checked)")
	fs.StringVar(&keyid, "keyid", "", "cloud: the identity provider's key `ID`; kid must equal it (default: not checked)")
	fs.StringVar(&userIDClaim, "userid-claim", qsjwt.DefaultUserIDClaim, "qseow: `claim` name of the user ID")
	fs.StringVar(&userDirClaim, "userdir-claim", qsjwt.DefaultUserDirectoryClaim, "qseow: `claim` name of the user directory")
	fs.StringVar(&groupsClaim, "groups-claim", qsjwt.DefaultGroupsClaim, "qseow: `claim` name of the groups")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
	if err := e.Parse(fs, args, "decode (--jwt T | --jwt-file F) [--cert-publickey-file F [--variant qseow|cloud] ...] [--json]",
		"Prints a token's header and claims, with iat, nbf and exp as dates. With a key it verifies the\n"+
			"signature and applies every rule of Qlik's (--variant, or the variant the token's aud names),\n"+
			"lists each problem on stderr, and exits 1 when Qlik would refuse the token."); err != nil {
		return err
	}

	// The command line.
	tokenFlag := "--jwt"
	switch {
	case Given(fs, "jwt") && Given(fs, "jwt-file"):
		return Usagef("--jwt", "--jwt and --jwt-file both give the token; give one")
	case Given(fs, "jwt-file"):
		tokenFlag = "--jwt-file"
	case !Given(fs, "jwt"):
		return Usagef("--jwt", "decode needs the token: --jwt T, --jwt-file F or --jwt-file - (stdin)")
	}
	keyFlag := "--cert-publickey-file"
	hasKey := Given(fs, "cert-publickey-file") || Given(fs, "cert-publickey") || Given(fs, "cert-privatekey-pfx")
	if err := pfx.Check(fs, "cert-publickey-file", "cert-publickey"); err != nil {
		return err
	}
	qseowOnly := Given(fs, "expected-audience") || Given(fs, "userid-claim") || Given(fs, "userdir-claim") || Given(fs, "groups-claim")
	cloudOnly := Given(fs, "expected-issuer") || Given(fs, "keyid")
	switch {
	case Given(fs, "cert-publickey-file") && Given(fs, "cert-publickey"):
		return Usagef("--cert-publickey-file", "--cert-publickey-file and --cert-publickey both give the key; give one")
	case Given(fs, "cert-publickey"):
		keyFlag = "--cert-publickey"
	case jwtFile == "-" && (keyFile == "-" || pfx.file == "-"):
		return Usagef("--cert-publickey-file", "the token and the key cannot both come from stdin")
	}
	switch {
	case !hasKey && (variant != "" || qseowOnly || cloudOnly):
		return Usagef("--cert-publickey-file", "checking a token against Qlik's rules needs the certificate or public key to verify it with")
	case qseowOnly && cloudOnly, variant == "cloud" && qseowOnly, variant == "qseow" && cloudOnly:
		return Usagef("--variant", "the flags given are for both variants; --expected-audience and the claim flags are for qseow, --expected-issuer and --keyid for cloud")
	case variant == "" && qseowOnly:
		variant = "qseow"
	case variant == "" && cloudOnly:
		variant = "cloud"
	}

	// The token, decoded without a key.
	token := jwt
	if tokenFlag == "--jwt-file" {
		data, err := e.ReadInput(tokenFlag, jwtFile)
		if err != nil {
			return err
		}
		token = string(data)
	}
	d, err := qsjwt.Decode(token)
	if err != nil {
		return Failf(tokenRef, "%s", trimLib(err.Error()))
	}
	if !hasKey {
		return e.printDecoded(d, asJSON, result{})
	}

	if variant == "oauth" { // oauth_decode.go
		return e.decodeAssertion(d, token, issuer, asJSON, tokenFlag, keyFlag, keyFile, keyText)
	}
	// The key, and the verifier of the variant.
	var pub crypto.PublicKey
	data := []byte(keyText)
	if pfx.file != "" {
		keyFlag = "--cert-privatekey-pfx"
		if data, err = pfx.CertificatePEM(e); err != nil {
			return err
		}
	} else if keyFlag == "--cert-publickey-file" {
		if data, err = e.ReadInput(keyFlag, keyFile); err != nil {
			return err
		}
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		pub, err = qsjwt.ParseJWK(t)
	} else {
		pub, err = qsjwt.ParsePublicKey(data)
	}
	if err != nil {
		return LibError(err, keyFlag, nil)
	}
	var claims map[string]json.RawMessage
	_ = json.Unmarshal(d.Claims, &claims) // Decode checked that it is an object
	if variant == "" {
		variant = "qseow"
		var auds []string
		if aud, ok := jsonString(claims["aud"]); ok {
			auds = []string{aud}
		} else {
			_ = json.Unmarshal(claims["aud"], &auds) // an array, as some tools write it
		}
		if slices.Contains(auds, qsjwt.CloudAudience) {
			variant = "cloud"
		}
		e.Infof("Checking the token as a %s token (from its aud); give --variant to choose.", variantName(variant))
	}
	var verr error
	switch variant {
	case "qseow":
		opts := []qsjwt.QSEoWVerifierOption{qsjwt.WithClock(Clock), qsjwt.WithUserIDClaim(userIDClaim),
			qsjwt.WithUserDirectoryClaim(userDirClaim), qsjwt.WithGroupsClaim(groupsClaim)}
		if Given(fs, "expected-audience") {
			opts = append(opts, qsjwt.WithAudience(audience))
		}
		v, err := qsjwt.NewQSEoWVerifier(pub, opts...)
		if err != nil {
			return verifierError(err, keyFlag)
		}
		var cl *qsjwt.QSEoWClaims
		if cl, verr = v.Verify(token); cl != nil {
			return e.printDecoded(d, asJSON, result{variant: variant, verified: true, warnings: cl.Warnings, tokenFlag: tokenFlag, keyFlag: keyFlag})
		}
	case "cloud":
		// Without --expected-issuer or --keyid the token's own value is
		// taken: everything else is checked, and the user is told.
		for _, x := range []struct {
			flag, claim string
			value       *string
			raw         json.RawMessage
		}{{"--expected-issuer", "iss", &issuer, claims["iss"]}, {"--keyid", "kid", &keyid, headerField(d, "kid")}} {
			if Given(fs, strings.TrimPrefix(x.flag, "--")) {
				continue
			}
			s, ok := jsonString(x.raw)
			if !ok || s == "" {
				s = "(not given: " + x.flag + ")"
			}
			*x.value = s
			e.warnf("%s is not checked against an expected value; give %s", x.claim, x.flag)
		}
		v, err := qsjwt.NewCloudVerifier(pub, qsjwt.WithIssuer(issuer), qsjwt.WithKeyID(keyid), qsjwt.WithClock(Clock))
		if err != nil {
			return verifierError(err, keyFlag)
		}
		var cl *qsjwt.CloudClaims
		if cl, verr = v.Verify(token); cl != nil {
			return e.printDecoded(d, asJSON, result{variant: variant, verified: true, warnings: cl.Warnings, tokenFlag: tokenFlag, keyFlag: keyFlag})
		}
	}
	var ve *qsjwt.VerifyError
	if !errors.As(verr, &ve) {
		return Failf(tokenRef, "%s", trimLib(verr.Error()))
	}
	return e.printDecoded(d, asJSON, result{variant: variant, verified: ve.SignatureVerified, refused: ve, tokenFlag: tokenFlag, keyFlag: keyFlag})
}

// result is what verification found, for printDecoded.
type result struct {
	variant   string // "" when not verified: no key was given
	verified  bool   // the signature verified
	warnings  []qsjwt.Problem
	refused   *qsjwt.VerifyError
	tokenFlag string
	keyFlag   string // the flag that gave the key
}

// printDecoded prints the decoded token on stdout and, on stderr, one line
// per problem (at most maxProblems, then how many more); it returns an
// error (exit 1) when Qlik would refuse the token. Names and values from the
// token are quoted or escaped: nothing in a token reaches the terminal raw.
func (e *Env) printDecoded(d *qsjwt.Decoded, asJSON bool, r result) error {
	problems := r.warnings
	if r.refused != nil {
		problems = r.refused.Problems
	}
	shown := problems[:min(len(problems), maxProblems)]
	if asJSON {
		var out map[string]json.RawMessage
		raw, err := json.Marshal(d)
		if err == nil {
			err = json.Unmarshal(raw, &out)
		}
		if err != nil {
			return Failf(r.tokenFlag, "encoding the JSON: %v", err)
		}
		out["unverified"] = jsonValue(!r.verified)
		if r.variant != "" {
			out["variant"] = jsonValue(r.variant)
			out["accepted"] = jsonValue(r.refused == nil)
			type problem struct {
				Claim   string `json:"claim"`
				Rule    string `json:"rule"`
				Flag    string `json:"flag,omitempty"` // the flag that fixes it; none for the token's own
				Warning bool   `json:"warning,omitempty"`
			}
			list := make([]problem, len(shown))
			for i, p := range shown {
				list[i] = problem{p.Claim, p.Rule, strings.TrimPrefix(problemFlag(p, r.keyFlag), tokenRef), p.Warning}
			}
			out["problems"] = jsonValue(list)
			if n := len(problems) - len(shown); n > 0 {
				out["problemsNotShown"] = jsonValue(n)
			}
		}
		body, _ := json.MarshalIndent(orderedJSON(out), "", "  ")
		fmt.Fprintf(e.Stdout, "%s\n", safeJSON(body))
	} else {
		text := d.String()
		if r.variant != "" { // a key was given: replace the library's "UNVERIFIED: decoded without a key" line
			_, text, _ = strings.Cut(text, "\n")
			first := "signature: verified with the given key\n"
			if !r.verified {
				first = "signature: NOT VERIFIED with the given key: anyone could have written these values\n"
			}
			text = first + text
		}
		fmt.Fprint(e.Stdout, safeText(text))
		switch {
		case r.variant == "":
			fmt.Fprintln(e.Stdout, "verdict:   not checked; give --cert-publickey-file (and --variant) to check it as Qlik would")
		case r.refused == nil:
			fmt.Fprintf(e.Stdout, "verdict:   %s would accept this token\n", variantName(r.variant))
		default:
			fmt.Fprintf(e.Stdout, "verdict:   %s would refuse this token (problems on stderr)\n", variantName(r.variant))
		}
	}
	var errs []error
	for _, p := range shown {
		flag := problemFlag(p, r.keyFlag)
		msg := fmt.Sprintf("%s: %s", problemSubject(p.Claim), p.Rule)
		if p.Warning {
			e.warnf("%s (%s)", msg, flag)
			continue
		}
		errs = append(errs, Failf(flag, "%s", msg))
	}
	if n := len(problems) - len(shown); n > 0 {
		if r.refused == nil { // warnings only
			e.warnf("and %d more %s not listed (%s)", n, plural(n, "warning"), tokenRef)
		} else {
			errs = append(errs, Failf(tokenRef, "and %d more %s not listed", n, plural(n, "problem")))
		}
	}
	return errors.Join(errs...)
}

// verifierError maps the verifier's option errors to decode's flags: a
// refused option is a usage error (exit 2).
func verifierError(err error, keyFlag string) error {
	var out []error
	for _, e := range flatten(err) {
		msg := trimLib(e.Error())
		var oe *qsjwt.OptionError
		if errors.As(e, &oe) {
			msg = oe.Reason
			if f := optionFlagsOf(oe.Option).decode; f != "" {
				out = append(out, Usagef(f, "%s", msg))
				continue
			}
		}
		out = append(out, Failf(keyFlag, "%s", msg))
	}
	return errors.Join(out...)
}

func variantName(v string) string {
	if v == "oauth" {
		return "Qlik Cloud OAuth"
	}
	if v == "cloud" {
		return "Qlik Cloud"
	}
	return "QSEoW"
}

// headerField returns the raw JSON of a header field, nil when absent.
func headerField(d *qsjwt.Decoded, name string) json.RawMessage {
	var h map[string]json.RawMessage
	_ = json.Unmarshal(d.Header, &h)
	return h[name]
}

// jsonString reads raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func jsonValue(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// orderedJSON keeps decode's JSON keys in a fixed, readable order.
type orderedJSON map[string]json.RawMessage

func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	keys := []string{"variant", "accepted", "unverified", "problems", "problemsNotShown", "header", "claims", "dates"}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	n := 0
	for _, k := range keys {
		v, ok := o[k]
		if !ok {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		key, _ := json.Marshal(k)
		b.Write(key)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
