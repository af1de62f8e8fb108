package pkcs11_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/pkcs11"
)

// Sign QSEoW tokens with a key that stays in the HSM. The PIN is read from a
// file (pin-source); WithPINEnv reads it from an environment variable
// instead. SignerWithDeadline makes a hung HSM fail at the request's
// deadline rather than block it. (Compiled, not run: it needs a token.)
func Example() {
	key, err := pkcs11.Open("pkcs11:token=qlik;object=jwt-signing" +
		"?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/hsm-pin")
	if err != nil {
		log.Fatal(err) // names the problem and the URI, never the PIN
	}
	defer key.Close()

	q, err := qsjwt.NewQSEoW(qsjwt.SignerWithDeadline(key.Signer()))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tok, err := q.Sign(ctx, qsjwt.QSEoWUser{UserDirectory: "CORP", UserID: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Raw)
}

// ParseURI checks a URI without touching the token, e.g. when a command
// line flag is read; printing it leaves the PIN out.
func ExampleParseURI() {
	u, err := pkcs11.ParseURI("pkcs11:token=qlik;object=jwt-signing;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Token, u.Object, u.ID)
	fmt.Println(u)
	// Output:
	// qlik jwt-signing [1]
	// pkcs11:token=qlik;object=jwt-signing;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so
}
