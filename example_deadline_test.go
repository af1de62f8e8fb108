package qsjwt_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/qsjwt/qsjwt"
)

// An HSM or KMS client that cannot be interrupted (here an in-memory key
// stands in for it) is wrapped so that a token request gives up at its
// deadline instead of waiting for a hung device.
func ExampleSignerWithDeadline() {
	pemKey, err := os.ReadFile("testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	key, err := qsjwt.ParsePrivateKey(pemKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	hsm, err := qsjwt.SignerFromCrypto(key) // e.g. a PKCS #11 key
	if err != nil {
		fmt.Println(err)
		return
	}
	q, err := qsjwt.NewQSEoW(qsjwt.SignerWithDeadline(hsm), exampleClock)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tok, err := q.Sign(ctx, qsjwt.QSEoWUser{UserDirectory: "CORP", UserID: "anna"})
	if err != nil {
		fmt.Println(err) // context.DeadlineExceeded if the HSM did not answer in time
		return
	}
	printToken(tok.Raw, "")
	// Output:
	// header: {"alg":"RS256","typ":"JWT"}
	// claims: {"userId":"anna","userDirectory":"CORP","iat":1795953600,"exp":1795957200}
}
