package session_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// signedIn stands for the site's own sign-in: it returns the user of the
// site session that r's cookie names. The site, never the page, says who
// the Qlik user is.
func signedIn(r *http.Request) (qsjwt.CloudUser, error) {
	c, err := r.Cookie("site_session")
	if err != nil || c.Value != "session-of-anna" { // a real site looks the session up
		return qsjwt.CloudUser{}, errors.New("not signed in")
	}
	return qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true}, nil
}

// A site serves Qlik Cloud to its pages under /qlik/: the page calls
// /qlik/api/v1/users/me and opens /qlik/app/<appId>, and holds no Qlik
// cookie. The tenant here is an emulator; give your tenant's URL and leave
// out WithBaseTransport.
func ExampleNewCloudProxy() {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	defer tenant.Close()
	signer, err := qsjwt.SignerFromCrypto(tenant.Key) // qsjwt.SignerFromPEMFile("privatekey.pem")
	if err != nil {
		log.Fatal(err)
	}
	cloud, err := qsjwt.NewCloud(signer, tenant.Issuer, tenant.KeyID)
	if err != nil {
		log.Fatal(err)
	}
	proxy, err := session.NewCloudProxy(tenant.URL, cloud, signedIn, session.WithBaseTransport(tenant.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/qlik/", http.StripPrefix("/qlik", proxy))
	site := httptest.NewServer(mux)
	defer site.Close()

	// What the page's fetch('/qlik/api/v1/users/me') does.
	req, _ := http.NewRequest(http.MethodGet, site.URL+"/qlik/api/v1/users/me", nil)
	req.AddCookie(&http.Cookie{Name: "site_session", Value: "session-of-anna"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	var me struct{ Name string }
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	fmt.Println(me.Name, "| Qlik cookies in the answer:", len(resp.Cookies()), "| users:", proxy.Users())

	resp, _ = http.Get(site.URL + "/qlik/api/v1/users/me") // not signed in to the site
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// Anna Andersson | Qlik cookies in the answer: 0 | users: 1
	// 401
}

// A site hands its signed-in user a token for Qlik's JavaScript: the page
// POSTs to /qlik-token with the header X-Qsjwt-Token-Request and gets
// {"token": …, "expiresAt": …}.
func ExampleNewCloudTokenHandler() {
	signer, err := qsjwt.SignerFromPEMFile("../testdata/test-only-rsa2048-pkcs8.pem")
	if err != nil {
		log.Fatal(err)
	}
	cloud, err := qsjwt.NewCloud(signer, "example.com", "my-key-id")
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := session.NewCloudTokenHandler(cloud, signedIn)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/qlik-token", tokens)
	site := httptest.NewServer(mux)
	defer site.Close()

	// What the page's fetch('/qlik-token', {method: 'POST', headers: …}) does.
	req, _ := http.NewRequest(http.MethodPost, site.URL+"/qlik-token", nil)
	req.Header.Set("Origin", site.URL) // browsers send it
	req.Header.Set(session.TokenRequestHeader, "1")
	req.AddCookie(&http.Cookie{Name: "site_session", Value: "session-of-anna"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	var got struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Cache-Control"), got.Token != "")
	// Output: 200 no-store true
}
