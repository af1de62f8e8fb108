package qsjwt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/qsjwt/qsjwt"
)

// The verifier examples check tokens at a fixed time against the committed
// test-only key and certificate, so their output is the same on every run.
func verifyExampleNow() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }

// A Qlik Cloud builder and the verifier that decides as the identity
// provider would, given the same issuer and key ID: the verifier checks with
// the public half of the signing key (or the certificate Qlik holds).
func ExampleNewCloudVerifier() {
	signer, err := qsjwt.SignerFromPEMFile("testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := qsjwt.NewCloud(signer, "tenant.eu.qlikcloud.com", "kid-1", qsjwt.WithClock(verifyExampleNow))
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := qsjwt.NewCloudVerifier(signer.Public(), qsjwt.WithIssuer("tenant.eu.qlikcloud.com"),
		qsjwt.WithKeyID("kid-1"), qsjwt.WithClock(verifyExampleNow))
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := c.Sign(context.Background(), qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson",
		Email: "anna@example.com", EmailVerified: true, Groups: []string{"Sales"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := v.Verify(tok.Raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.Subject, claims.Groups, claims.ID == tok.ID)
	fmt.Println("valid", claims.NotBefore.Format(time.RFC3339), "to", claims.ExpiresAt.Format(time.RFC3339))
	// Output:
	// anna-42 [Sales] true
	// valid 2026-11-29T11:59:55Z to 2026-11-29T12:05:00Z
}

// A token in the shape some widely used tools produce, made with openssl
// (testdata/test-only-make-tokens.sh): Verify lists every reason Qlik Cloud
// refuses it, each naming the claim and the rule.
func ExampleCloudVerifier_Verify_refused() {
	cert, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	if err != nil {
		fmt.Println(err)
		return
	}
	pub, err := qsjwt.ParseCertificate(cert)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := qsjwt.NewCloudVerifier(pub, qsjwt.WithIssuer("tenant.eu.qlikcloud.com"),
		qsjwt.WithKeyID("kid-1"), qsjwt.WithClock(verifyExampleNow))
	if err != nil {
		fmt.Println(err)
		return
	}
	token, err := os.ReadFile("testdata/test-only-cloud-othertool.jwt")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = v.Verify(string(token))
	var ve *qsjwt.VerifyError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	fmt.Println(ve.SignatureVerified) // the claims are refused, not the signature
	// Output:
	// aud: is an array ["qlik.api/login/jwt-session"], not a string; Qlik Cloud needs the login audience "qlik.api/login/jwt-session" as a plain string
	// warning: group: is ignored: Qlik Cloud reads "groups" (plural), so the user gets none of these groups; rename the claim
	// email_verified: is the string "true"; Qlik Cloud needs the JSON boolean true or false, not a string
	// jti: is missing; Qlik Cloud needs a unique ID per token (and refuses one it has seen)
	// nbf: is missing; Qlik Cloud refuses a token without it (INTERNAL-TOKEN-1 Missing required claim: nbf)
	// exp: exp - iat is 31536000 s (365 days); Qlik Cloud allows at most 3600 s
	// true
}

// A QSEoW virtual proxy set up like Qlik's own samples: user ID in "user",
// user directory in "directory", JWT audience "qlik-sense". The token was
// signed RS512 with openssl.
func ExampleNewQSEoWVerifier() {
	cert, err := os.ReadFile("testdata/test-only-rsa2048.cer")
	if err != nil {
		fmt.Println(err)
		return
	}
	pub, err := qsjwt.ParseCertificate(cert)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := qsjwt.NewQSEoWVerifier(pub, qsjwt.WithUserIDClaim("user"),
		qsjwt.WithUserDirectoryClaim("directory"), qsjwt.WithAudience("qlik-sense"), qsjwt.WithClock(verifyExampleNow))
	if err != nil {
		fmt.Println(err)
		return
	}
	token, err := os.ReadFile("testdata/test-only-qseow-openssl-rs512.jwt")
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := v.Verify(string(token))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\\%s %s %v until %s\n", claims.UserDirectory, claims.UserID, claims.Algorithm, claims.Groups,
		claims.ExpiresAt.Format(time.RFC3339))
	// Output:
	// GRUSGRUS\anna RS512 [Sales Analysts] until 2026-11-29T13:00:00Z
}

// Decode needs no key and judges nothing: it shows what a token says, as
// written (the string "true" is not the boolean true), with dates.
func ExampleDecode() {
	token, err := os.ReadFile("testdata/test-only-cloud-othertool.jwt")
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := qsjwt.Decode(string(token))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(d)
	// Output:
	// UNVERIFIED: decoded without a key; the signature was not checked, so anyone could have written these values.
	// header:
	//   alg  "RS256"
	//   kid  "kid-1"
	//   typ  "JWT"
	// claims:
	//   iss             "tenant.eu.qlikcloud.com"
	//   aud             ["qlik.api/login/jwt-session"]
	//   sub             "6f1c2a9e-3b7d-4e5f-9a8b-1c2d3e4f5a6b"
	//   subType         "user"
	//   name            "Anna Andersson"
	//   email           "anna@example.com"
	//   email_verified  "true"
	//   group           ["Sales"]
	//   iat             1795953600  (2026-11-29T12:00:00Z)
	//   exp             1827489600  (2027-11-29T12:00:00Z)
}
