package qsjwt_test

import (
	"context"
	"fmt"

	"github.com/qsjwt/qsjwt"
)

// An OAuth client of Qlik Cloud that authenticates with Private Key JWT
// registers the public key as a JWK and sends a fresh assertion, in place
// of its client secret, with every request to POST /oauth/token. Package
// session's OAuth token source does the sending.
func ExampleNewClientAssertion() {
	signer, err := qsjwt.SignerFromPEMFile("testdata/test-only-ec-p384-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := qsjwt.NewClientAssertion(signer, "0123456789abcdef0123456789abcdef",
		"https://tenant.eu.qlikcloud.com", "key-2026-11", exampleClock)
	if err != nil {
		fmt.Println(err)
		return
	}
	jwk, err := a.PublicJWK() // register this with the OAuth client
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := a.Sign(context.Background()) // send tok.Raw as client_assertion
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Algorithm(), a.Audience())
	fmt.Println("lifetime:", tok.ExpiresAt.Sub(tok.IssuedAt))

	// The tenant's side: the same checks, over the exact bytes.
	_, err = qsjwt.VerifyClientAssertion(tok.Raw, jwk, "0123456789abcdef0123456789abcdef",
		"https://tenant.eu.qlikcloud.com", exampleClock)
	fmt.Println("verified:", err == nil)
	// Output:
	// ES384 https://tenant.eu.qlikcloud.com/oauth/token
	// lifetime: 1m0s
	// verified: true
}
