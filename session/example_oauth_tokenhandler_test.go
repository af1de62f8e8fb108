package session_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// A site hands its signed-in user an OAuth access token for the page, which
// calls Qlik Cloud with Authorization: Bearer (qlik-embed's
// data-get-access-token="getAccessToken"). The tenant is an emulator.
func ExampleNewOAuthTokenHandler() {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	defer tenant.Close()
	clientID, secret, err := tenant.AddOAuthClient(qliktest.OAuthClient{Name: "portal", Scopes: []string{"user_default"},
		GrantTypes: []string{session.GrantClientCredentials, session.GrantImpersonation}})
	if err != nil {
		log.Fatal(err)
	}
	oauth, err := session.NewOAuth(tenant.URL, clientID, session.WithClientSecret(secret),
		session.WithScopes("user_default"), session.WithBaseTransport(tenant.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}
	// Your sign-in decides the user; never a name the page sends.
	userOf := func(r *http.Request) (qsjwt.CloudUser, error) {
		if c, err := r.Cookie("site"); err == nil && c.Value == "anna-session" {
			return qsjwt.CloudUser{Subject: "anna-42", Name: "Anna", Email: "anna@example.com"}, nil
		}
		return qsjwt.CloudUser{}, errors.New("not signed in")
	}
	site := httptest.NewUnstartedServer(nil)
	origin := "http://" + site.Listener.Addr().String() // the site's pages
	tokens, err := session.NewOAuthTokenHandler(oauth, userOf, session.WithAllowedOrigins(origin))
	if err != nil {
		log.Fatal(err)
	}
	site.Config.Handler = tokens // e.g. mux.Handle("/token/oauth", tokens)
	site.Start()
	defer site.Close()

	// What the page's getAccessToken does: POST with the header.
	req, _ := http.NewRequest(http.MethodPost, site.URL+"/token/oauth", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set(session.TokenRequestHeader, "1")
	req.AddCookie(&http.Cookie{Name: "site", Value: "anna-session"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, "- tokens issued for anna-42:", tenant.OAuthTokensIssued("anna-42"))
	// Output: 200 OK - tokens issued for anna-42: 1
}
