package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// A Qlik Cloud session for one user: one login, then ordinary HTTP calls.
// The tenant here is an emulator; give your tenant's URL and leave out
// WithBaseTransport.
func ExampleCloud() {
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
	user := qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true}
	sess, err := session.NewCloud(tenant.URL, cloud.TokenSource(user), session.WithBaseTransport(tenant.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}
	client := sess.Client() // keep it for as long as the user works

	resp, err := client.Get(tenant.URL + "/api/v1/users/me") // logs in first
	if err != nil {
		log.Fatal(err) // a *session.QlikError when Qlik refused the login
	}
	var me struct{ Subject string }
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()

	// Not a GET: the session adds the qlik-csrf-token header.
	resp, err = client.Post(tenant.URL+"/api/v1/spaces", "application/json", strings.NewReader(`{"name":"sales"}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(me.Subject, resp.StatusCode, "logins:", tenant.Logins())
	// Output: anna-42 201 logins: 1
}

// QSEoW REST calls as one user: an xrfkey per request, one proxy session
// and one token per token lifetime. The server here is an emulator; leave
// out WithBaseTransport for a real one.
func ExampleQSEoWTransport() {
	proxy := qliktest.NewQSEoW(qliktest.QSEoWConfig{Prefix: "jwt"})
	defer proxy.Close()
	signer, err := qsjwt.SignerFromCrypto(proxy.Key) // qsjwt.SignerFromPEMFile("privatekey.pem")
	if err != nil {
		log.Fatal(err)
	}
	q, err := qsjwt.NewQSEoW(signer)
	if err != nil {
		log.Fatal(err)
	}
	user := qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "anna"}
	transport, err := session.NewQSEoWTransport(proxy.URL+"/jwt", q.TokenSource(user), session.WithBaseTransport(proxy.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}
	client := transport.Client() // keep it for as long as the user works

	for range 3 {
		resp, err := client.Get(proxy.URL + "/jwt/qrs/about")
		if err != nil {
			log.Fatal(err)
		}
		if err := session.CheckResponse(resp); err != nil {
			log.Fatal(err) // a *session.QlikError
		}
		resp.Body.Close()
	}

	// The engine WebSocket: the session cookie and its CSRF token.
	wsURL, header, err := transport.EngineWebSocket(context.Background(), "my-app-id")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(wsURL, "wss://"), strings.Contains(wsURL, "/jwt/app/my-app-id?qlik-csrf-token="), header.Get("Authorization") == "")
	fmt.Println("sessions:", proxy.SessionsOpened())
	// Output:
	// true true true
	// sessions: 1
}

// Sessions of one tenant share its login budget; a login the budget (or an
// earlier refusal) does not allow is not sent, and the error says until when.
func ExampleWithLoginBudget() {
	clock := qliktest.NewClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)) // time.Now in real use
	tenant := qliktest.NewCloud(qliktest.CloudConfig{Now: clock.Now})
	defer tenant.Close()
	signer, err := qsjwt.SignerFromCrypto(tenant.Key)
	if err != nil {
		log.Fatal(err)
	}
	cloud, err := qsjwt.NewCloud(signer, tenant.Issuer, tenant.KeyID, qsjwt.WithClock(clock.Now))
	if err != nil {
		log.Fatal(err)
	}
	budget, err := session.NewLoginBudget(1, time.Minute) // session.DefaultLoginsPerMinute for a real tenant
	if err != nil {
		log.Fatal(err)
	}
	for _, subject := range []string{"anna-42", "bob-7"} {
		user := qsjwt.CloudUser{Subject: subject, Name: subject, Email: subject + "@example.com", EmailVerified: true}
		s, err := session.NewCloud(tenant.URL, cloud.TokenSource(user),
			session.WithLoginBudget(budget), session.WithClock(clock.Now), session.WithBaseTransport(tenant.Client().Transport))
		if err != nil {
			log.Fatal(err)
		}
		err = s.Login(context.Background())
		var wait *session.BackoffError
		switch {
		case errors.As(err, &wait):
			fmt.Println(subject, "waits", wait.Until.Sub(clock.Now()), "- budget spent:", errors.Is(err, session.ErrLoginBudget))
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println(subject, "logged in")
		}
	}
	// Output:
	// anna-42 logged in
	// bob-7 waits 1m0s - budget spent: true
}
