package qsjwt_test

import (
	"encoding/json"
	"fmt"

	"github.com/qsjwt/qsjwt"
)

// PublicJWK writes the public half of a signing key as the JWK Qlik Cloud
// registers.
func ExamplePublicJWK() {
	signer, err := qsjwt.SignerFromPEMFile("testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	jwk, err := qsjwt.PublicJWK(signer.Public(), "my-key-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	var members map[string]string
	if err := json.Unmarshal(jwk, &members); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(members["kty"], members["alg"], members["use"], members["kid"], members["e"], len(members["n"]))
	// Output: RSA RS256 sig my-key-1 AQAB 342
}
