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
	q, err := qsjwt.NewQSEoW(signer, qsjwt.WithAudience("hdJh34wkK"), qsjwt.WithTTL(time.Hour), exampleClock)
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
	c, err := qsjwt.NewCloud(signer, "tenant.eu.qlikcloud.com", "kid", exampleClock)
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

// Keep the source for as long as the user makes requests: it signs once
// per token lifetime and hands the same token to every caller. Printed, a
// token shows its times, never the token itself, which is in Raw.
func ExampleQSEoW_TokenSource() {
	signer, err := qsjwt.SignerFromPEMFile("testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	q, err := qsjwt.NewQSEoW(signer, exampleClock)
	if err != nil {
		fmt.Println(err)
		return
	}
	src := q.TokenSource(qsjwt.QSEoWUser{UserDirectory: "CORP", UserID: "anna"})
	first, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	second, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(first.Raw == second.Raw)
	fmt.Println(first)
	fmt.Println(src)
	// Output:
	// true
	// qsjwt.Token{ID:"", IssuedAt:2026-11-29T12:00:00Z, ExpiresAt:2026-11-29T13:00:00Z, Raw:[redacted]}
	// qsjwt.TokenSource{caching, token expires 2026-11-29T13:00:00Z}
}

// Every problem is reported at once, each naming the parameter or option
// that fixes it.
func ExampleNewCloud_errors() {
	_, err := qsjwt.NewCloud(nil, "", "kid", qsjwt.WithTTL(365*24*time.Hour))
	fmt.Println(err)
	// Output:
	// qsjwt: signer: the signer is nil; give one from qsjwt.SignerFromPEMFile("privatekey.pem"), SignerFromCrypto or SignerFunc
	// qsjwt: issuer: the issuer is empty; give the issuer of the tenant's JWT identity provider exactly
	// qsjwt: WithTTL: lifetime 8760h0m0s plus not-before skew 5s exceeds Qlik Cloud's limit: exp - nbf must be at most 1h0m0s
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
