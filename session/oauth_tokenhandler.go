package session

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/qsjwt/qsjwt"
)

// NewOAuthTokenHandler returns a [TokenHandler] that gives the site's user
// an OAuth access token of the Qlik Cloud user with the same subject, for a
// page that calls Qlik Cloud with Authorization: Bearer (qlik-embed's
// data-get-access-token callback, @qlik/api's getAccessToken with authType
// "oauth2"). The first time it sees a subject it makes sure the Qlik user
// exists ([OAuth.EnsureUser], with the user's name and email), then it
// impersonates it ([OAuth.ImpersonateSubject]; the tokens are cached by
// oauth). oauth needs the grant urn:qlik:oauth:user-impersonation and
// explicit scopes ([WithScopes]). No cookie is involved, so the page works
// where third-party cookies are blocked.
func NewOAuthTokenHandler(oauth *OAuth, user func(*http.Request) (qsjwt.CloudUser, error), opts ...TokenHandlerOption) (*TokenHandler, error) {
	if oauth == nil || user == nil {
		return nil, fmt.Errorf("%w: NewOAuthTokenHandler needs the OAuth client (session.NewOAuth) and the function that returns the site's user", ErrSession)
	}
	var ensured sync.Map // subjects known to exist
	return newTokenHandler(opts, func(r *http.Request) (string, func(context.Context) (qsjwt.Token, error), error) {
		u, err := user(r)
		if err != nil || u.Subject == "" {
			return "", nil, notSignedIn{err}
		}
		return u.Subject, func(ctx context.Context) (qsjwt.Token, error) {
			if _, ok := ensured.Load(u.Subject); !ok {
				if _, err := oauth.EnsureUser(ctx, u.Subject, u.Name, u.Email); err != nil {
					return qsjwt.Token{}, err
				}
				ensured.Store(u.Subject, true)
			}
			return oauth.ImpersonateSubject(u.Subject).Token(ctx)
		}, nil
	})
}
