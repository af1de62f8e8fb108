package qsjwt_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// The examples sign with a committed test-only key and a fixed clock, so
// their RS256 output is the same on every run.
var exampleClock = qsjwt.WithClock(func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) })

func Example_qseow() {
	signer, err := qsjwt.SignerFromPEMFile("testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	q, err := qsjwt.NewQSEoW(qsjwt.WithSigner(signer), qsjwt.WithAudience("hdJh34wkK"), qsjwt.WithTTL(time.Hour), exampleClock)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := q.Sign(context.Background(), qsjwt.QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna",
		Name: "Anna Andersson", Email: "anna@example.com", Groups: []string{"g1", "group 2"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	printToken(tok.Raw, "")
	// Output:
	// header: {"alg":"RS256","typ":"JWT"}
	// claims: {"userId":"anna","userDirectory":"GRUSGRUS","aud":"hdJh34wkK","name":"Anna Andersson","email":"anna@example.com","group":["g1","group 2"],"iat":1795953600,"exp":1795957200}
}

func Example_cloud() {
	signer, err := qsjwt.SignerFromPEMFile("testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := qsjwt.NewCloud(qsjwt.WithSigner(signer), qsjwt.WithIssuer("tenant.eu.qlikcloud.com"), qsjwt.WithKeyID("kid"), exampleClock)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := c.Sign(context.Background(), qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson",
		Email: "anna@example.com", EmailVerified: true, Groups: []string{"g1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The jti is 128 random bits, new for every token.
	printToken(tok.Raw, tok.ID)
	// Output:
	// header: {"alg":"RS256","kid":"kid","typ":"JWT"}
	// claims: {"iss":"tenant.eu.qlikcloud.com","aud":"qlik.api/login/jwt-session","sub":"anna-42","subType":"user","name":"Anna Andersson","email":"anna@example.com","email_verified":true,"jti":"<random jti>","iat":1795953600,"nbf":1795953595,"exp":1795953900,"groups":["g1"]}
}

func ExampleNewCloud_errors() {
	_, err := qsjwt.NewCloud(qsjwt.WithTTL(365 * 24 * time.Hour))
	fmt.Println(err)
	// Output:
	// qsjwt: WithIssuer: no issuer; give the issuer of the tenant's JWT identity provider
	// qsjwt: WithKeyID: no key ID; give the Key ID of the tenant's JWT identity provider
	// qsjwt: WithTTL: lifetime 8760h0m0s plus not-before skew 5s exceeds Qlik Cloud's limit: exp - nbf must be at most 1h0m0s
	// qsjwt: WithSigner: no signer; give WithSigner(qsjwt.SignerFromPEMFile("privatekey.pem")) or another Signer
}

// printToken prints the header and claims of a token, with its random jti
// (if any) replaced by a placeholder.
func printToken(raw, jti string) {
	parts := strings.SplitN(raw, ".", 3)
	for i, name := range []string{"header", "claims"} {
		b, _ := base64.RawURLEncoding.DecodeString(parts[i])
		s := string(b)
		if jti != "" {
			s = strings.Replace(s, jti, "<random jti>", 1)
		}
		fmt.Printf("%s: %s\n", name, s)
	}
}
