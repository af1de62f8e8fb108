package session

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// TestFormatHidesLiveSecrets formats a used Cloud and a used QSEoWTransport
// (logged in, cookie and CSRF token held, token cached) with every verb: no
// token, cookie value or CSRF token may appear.
func TestFormatHidesLiveSecrets(t *testing.T) {
	cr, cf := newCloudFront(t, qliktest.CloudConfig{})
	cloud := cr.frontSession(t, cf, cr.cloud.TokenSource(cloudUser("anna")))
	status, _ := space(t, cloud.Client(), cf.URL, "x") // login, CSRF fetch, a POST
	require.Equal(t, http.StatusCreated, status)
	csrf, err := cloud.CSRFToken(context.Background())
	require.NoError(t, err)
	cookies, err := cloud.Cookies(context.Background())
	require.NoError(t, err)
	secrets := []string{csrf}
	for _, c := range cookies {
		secrets = append(secrets, c.Value)
	}

	_, qf, tr := newQSEoWFront(t, qAnna)
	require.Equal(t, http.StatusOK, about(t, tr.Client(), qf.URL+"/jwt"))
	require.Len(t, tr.Cookies(), 1)
	secrets = append(secrets, tr.Cookies()[0].Value)
	for _, b := range qf.authorizations() {
		secrets = append(secrets, strings.TrimPrefix(b, "Bearer "))
	}
	require.Len(t, secrets, 1+3+1+1, "CSRF token, three Cloud cookies, the proxy cookie, one token")
	for _, s := range secrets {
		require.NotEmpty(t, s)
	}

	budget, err := NewLoginBudget(10, 60e9)
	require.NoError(t, err)
	for _, v := range []any{cloud, tr, budget, WithBaseTransport(nil), WithLoginBudget(budget)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s of %T", verb, v)
			}
		}
	}
	assert.Equal(t, "session.Cloud{tenant: "+cf.URL+", live: true}", fmt.Sprint(cloud))
	assert.Equal(t, "session.QSEoWTransport{proxy: "+qf.URL+"/jwt}", fmt.Sprintf("%+v", tr))
}
