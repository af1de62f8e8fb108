package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// oauthScope is the scope the site's impersonation tokens ask for.
const oauthScope = "user_default"

// newOAuth is the site's OAuth client of the tenant: authenticated by the
// secret when there is one, else by a Private Key JWT signed with key under
// keyID.
func newOAuth(tenant, clientID, secret string, key qsjwt.Signer, keyID string, transport http.RoundTripper) (*session.OAuth, error) {
	auth := session.WithClientSecret(secret)
	if secret == "" {
		if key == nil || keyID == "" {
			return nil, errors.New("OAuth mode needs the client's secret in QSJWT_OAUTH_CLIENT_SECRET, or its key (-key-file) and -oauth-keyid for a Private Key JWT")
		}
		a, err := qsjwt.NewClientAssertion(key, clientID, tenant, keyID)
		if err != nil {
			return nil, err
		}
		auth = session.WithClientAssertion(a)
	}
	return session.NewOAuth(tenant, clientID, auth, session.WithScopes(oauthScope), session.WithBaseTransport(transport))
}

// emulatedOAuth registers an OAuth impersonation client with the emulated
// tenant, as an admin does once for a real tenant, allowing the site's
// origin, and sets the site's OAuth up with it. The client authenticates
// with a Private Key JWT (key's public key registered), or with a secret
// when the emulator serves plain http (-listen), since an assertion's
// audience must be an https URL.
// The allowed origins are origins if given (a test), else the site's.
func emulatedOAuth(cfg *config, tenant *qliktest.Cloud, key qsjwt.Signer, origins ...string) error {
	const keyID = "mashup-oauth-key"
	if origins == nil {
		origins = []string{cfg.Origin}
	}
	client := qliktest.OAuthClient{Name: "mashup", GrantTypes: []string{session.GrantClientCredentials, session.GrantImpersonation},
		Scopes: []string{oauthScope}, AllowedOrigins: origins, Secret: !strings.HasPrefix(tenant.URL, "https://")}
	if !client.Secret {
		setup, err := qsjwt.NewClientAssertion(key, "setup", tenant.URL, keyID)
		if err != nil {
			return err
		}
		jwk, err := setup.PublicJWK()
		if err != nil {
			return err
		}
		client.PublicKeys = [][]byte{jwk}
	}
	id, secret, err := tenant.AddOAuthClient(client)
	if err != nil {
		return err
	}
	cfg.OAuthClientID = id
	cfg.OAuth, err = newOAuth(tenant.URL, id, secret, key, keyID, tenant.Client().Transport)
	return err
}
