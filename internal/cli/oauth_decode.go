package cli

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/qsjwt/qsjwt"
)

// decodeAssertion is decode --variant oauth: it checks a client assertion
// with the JWK registered with the OAuth client (its kid and alg count).
// The client ID is --expected-issuer, else the token's iss; the tenant is
// the one the token's aud names; either taken from the token is said.
func (e *Env) decodeAssertion(d *qsjwt.Decoded, token, clientID string, asJSON bool, tokenFlag, keyFlag, keyFile, keyText string) error {
	data := []byte(keyText)
	if keyFlag == "--cert-publickey-file" {
		var err error
		if data, err = e.ReadInput(keyFlag, keyFile); err != nil {
			return err
		}
	}
	var claims map[string]json.RawMessage
	_ = json.Unmarshal(d.Claims, &claims) // Decode checked that it is an object
	if clientID == "" {
		clientID, _ = jsonString(claims["iss"])
		if clientID == "" {
			clientID = "(not given: --expected-issuer)"
		}
		e.warnf("iss and sub are not checked against an expected client ID; give it with --expected-issuer")
	}
	tenant := "https://tenant.invalid"
	if aud, ok := jsonString(claims["aud"]); ok {
		if u, err := url.Parse(aud); err == nil && u.Host != "" {
			tenant = "https://" + u.Host
		}
	}
	e.Infof("Checking aud against the tenant it names, %s.", Quote(tenant))
	_, err := qsjwt.VerifyClientAssertion(token, []byte(strings.TrimSpace(string(data))), clientID, tenant, qsjwt.WithClock(Clock))
	var ve *qsjwt.VerifyError
	var oe *qsjwt.OptionError
	switch {
	case err == nil:
		return e.printDecoded(d, asJSON, result{variant: "oauth", verified: true, tokenFlag: tokenFlag, keyFlag: keyFlag})
	case errors.As(err, &ve):
		return e.printDecoded(d, asJSON, result{variant: "oauth", verified: ve.SignatureVerified, refused: ve, tokenFlag: tokenFlag, keyFlag: keyFlag})
	case errors.As(err, &oe) && oe.Option == "jwk":
		return Failf(keyFlag, "--variant oauth needs the JWK registered with the OAuth client: %s", trimLib(oe.Reason))
	}
	return Usagef("--expected-issuer", "%s", trimLib(err.Error()))
}
