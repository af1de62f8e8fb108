package session_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// A backend gets access tokens for its users from Qlik Cloud with OAuth
// impersonation, the client authenticated by a Private Key JWT: no client
// secret, no cookie. The tenant here is an emulator; give your tenant's URL
// and leave out WithBaseTransport.
func ExampleNewOAuth() {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	defer tenant.Close()
	signer, err := qsjwt.SignerFromPEMFile("../testdata/test-only-ec-p384-pkcs8.pem")
	if err != nil {
		log.Fatal(err)
	}
	// The client's ID comes from the tenant, once its public key is
	// registered; in production both are set up once, by an admin.
	jwk, err := mustAssertion(signer, "setup", tenant.URL).PublicJWK()
	if err != nil {
		log.Fatal(err)
	}
	clientID, _, err := tenant.AddOAuthClient(qliktest.OAuthClient{Name: "portal", PublicKeys: [][]byte{jwk},
		GrantTypes: []string{session.GrantClientCredentials, session.GrantImpersonation}, Scopes: []string{"user_default"}})
	if err != nil {
		log.Fatal(err)
	}

	oauth, err := session.NewOAuth(tenant.URL, clientID,
		session.WithClientAssertion(mustAssertion(signer, clientID, tenant.URL)),
		session.WithScopes("user_default"), session.WithBaseTransport(tenant.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := oauth.EnsureUser(ctx, "anna-42", "Anna Andersson", "anna@example.com"); err != nil {
		log.Fatal(err)
	}
	anna := oauth.ImpersonateSubject("anna-42") // keep it: tokens are cached
	tok, err := anna.Token(ctx)
	if err != nil {
		log.Fatal(err) // a *session.OAuthError when Qlik refused
	}

	req, _ := http.NewRequest(http.MethodGet, tenant.URL+"/api/v1/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
	resp, err := tenant.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	again, _ := anna.Token(ctx)
	fmt.Println(resp.StatusCode, again == tok, "token requests:", tenant.OAuthTokenRequests())
	// Output: 200 true token requests: 2
}

func mustAssertion(s qsjwt.Signer, clientID, tenantURL string) *qsjwt.ClientAssertion {
	a, err := qsjwt.NewClientAssertion(s, clientID, tenantURL, "key-1")
	if err != nil {
		log.Fatal(err)
	}
	return a
}
