package provision_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/provision"
	"github.com/qsjwt/qsjwt/qliktest"
)

const apiKey = "test-only-api-key-4e1f9b0c2d7a"

func TestAdminSecretsNeverPrint(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{APIKey: apiKey})
	defer tenant.Close()
	site := qliktest.NewSite(qliktest.SiteConfig{})
	defer site.Close()

	c, err := provision.NewCloud(tenant.URL, apiKey, tenant.Client())
	require.NoError(t, err)
	q, err := provision.NewQRS(site.QRSURL, site.ClientCertPEM, site.ClientKeyPEM, site.RootCAs())
	require.NoError(t, err)
	keyLine := strings.Split(string(site.ClientKeyPEM), "\n")[1]
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{c, q, *c, *q} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, apiKey, verb)
			assert.NotContains(t, out, keyLine, verb)
		}
	}

	// A refused call's error names the status, never the key.
	wrong, err := provision.NewCloud(tenant.URL, apiKey+"-wrong", tenant.Client())
	require.NoError(t, err)
	_, err = wrong.Plan(context.Background(), provision.CloudSetup{Issuer: "i", KeyID: "k", Certificate: tenant.Certificate})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), apiKey)

	_, err = provision.NewQRS(site.QRSURL, site.ClientCertPEM, site.ClientCertPEM, nil)
	require.Error(t, err, "a certificate given as the key")
	assert.NotContains(t, err.Error(), keyLine)
}

func TestPlanRefusesWildcardsAndMismatchedKeys(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{APIKey: apiKey})
	defer tenant.Close()
	c, err := provision.NewCloud(tenant.URL, apiKey, tenant.Client())
	require.NoError(t, err)
	_, err = c.Plan(context.Background(), provision.CloudSetup{Issuer: "i", KeyID: "k", Certificate: tenant.Certificate,
		WebIntegration: "w", Origins: []string{"https://*.example.com"}})
	assert.ErrorIs(t, err, provision.ErrWildcardOrigin)

	_, err = c.Setup(context.Background(), provision.CloudSetup{Issuer: "i", KeyID: "k", Certificate: tenant.Certificate})
	require.NoError(t, err)
	_, err = c.Plan(context.Background(), provision.CloudSetup{Issuer: "i", KeyID: "k", Certificate: fixtureCert(t)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds another certificate")
}

// fixtureCert returns a certificate for a key other than the emulators'.
func fixtureCert(t *testing.T) *x509.Certificate {
	t.Helper()
	cert, err := qsjwt.ParseCertificate(mustRead(t, "../testdata/test-only-rsa2048.cer"))
	require.NoError(t, err)
	return cert
}

// qlik answers every request with one status and body, as Qlik is
// documented to answer a refused login.
func qlik(status int, body string) *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
}

func TestDoctorCloudNamesQlikDocumentedRefusals(t *testing.T) {
	signer, err := qsjwt.SignerFromPEMFile("../testdata/test-only-rsa2048-pkcs8.pem")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, body, cause string
		status            int
	}{
		{"missing nbf", `{"errors":[{"code":"INTERNAL-TOKEN-1","title":"Bad Request","detail":"Missing required claim: nbf","status":"400"}]}`, provision.CauseMissingClaim, 400},
		{"rate limit", `{"errors":[{"code":"LOGIN-RATE","title":"Too Many Requests","status":"429"}]}`, provision.CauseRateLimited, 429},
	} {
		srv := qlik(tc.status, tc.body)
		r := provision.DoctorCloud(context.Background(), provision.CloudDoctor{TenantURL: srv.URL, Client: srv.Client(), Signer: signer,
			Issuer: "i", KeyID: "k", User: qsjwt.CloudUser{Subject: "s", Name: "n", Email: "e@example.com", EmailVerified: true}})
		srv.Close()
		assert.False(t, r.OK, tc.name)
		require.GreaterOrEqual(t, len(r.Checks), 2)
		assert.Equal(t, "login", r.Checks[1].Name, tc.name)
		assert.Equal(t, tc.cause, r.Checks[1].Cause, tc.name)
		assert.True(t, r.Checks[2].Skipped, "later checks do not run after a failed login")
	}
}

// A proxy that accepts the session but refuses the upgrade as the
// cross-site WebSocket check does (a stale CSRF token) is named so.
func TestDoctorQSEoWNamesTheCrossSiteWebSocketCheck(t *testing.T) {
	signer, err := qsjwt.SignerFromPEMFile("../testdata/test-only-rsa2048-pkcs8.pem")
	require.NoError(t, err)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/qps/user"):
			http.SetCookie(w, &http.Cookie{Name: "X-Qlik-Session-jwt", Value: "v", Path: "/"})
		case strings.HasSuffix(r.URL.Path, "/qps/csrftoken"):
			w.Header().Set("qlik-csrf-token", "t")
		default:
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"errors":[{"code":"CSRF-TOKEN-2","title":"Forbidden","status":"403"}]}`))
		}
	}))
	defer srv.Close()
	r := provision.DoctorQSEoW(context.Background(), provision.QSEoWDoctor{ServerURL: srv.URL, Prefix: "jwt", Client: srv.Client(),
		Signer: signer, User: qsjwt.QSEoWUser{UserDirectory: "D", UserID: "u"}})
	assert.False(t, r.OK)
	last := r.Checks[len(r.Checks)-1]
	assert.Equal(t, "websocket", last.Name)
	assert.Equal(t, provision.CauseWebSocketCrossSite, last.Cause)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
