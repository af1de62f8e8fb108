package qsjwt_test

import (
	"encoding/json"
	"fmt"
	"os"

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

// ParsePKCS12 reads the PFX file the QMC exports; the password comes from
// where the application keeps its secrets, never from the source code.
func ExampleParsePKCS12() {
	pfx, err := os.ReadFile("testdata/test-only-rsa2048-aes256.pfx")
	if err != nil {
		fmt.Println(err)
		return
	}
	password := []byte("test-only-passphrase") // e.g. os.Getenv("QLIK_PFX_PASSWORD")
	key, cert, err := qsjwt.ParsePKCS12(pfx, qsjwt.WithPassphrase(password))
	if err != nil {
		fmt.Println(err)
		return
	}
	signer, err := qsjwt.SignerFromCrypto(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(signer, cert.Subject.CommonName)

	_, _, err = qsjwt.ParsePKCS12(pfx, qsjwt.WithPassphrase([]byte("wrong")))
	fmt.Println(err)
	// Output:
	// qsjwt.Signer(RSA-2048) qsjwt test only
	// qsjwt: key: wrong passphrase: the password given with WithPassphrase does not open the PFX (or the file is damaged); check the password
}
