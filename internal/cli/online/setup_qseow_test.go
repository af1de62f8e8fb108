package online

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// site is an emulated QSEoW site and the flags that reach it.
type site struct {
	*qliktest.Site
	ca, cert, key string
}

func newSite(t *testing.T, now time.Time) *site {
	s := qliktest.NewSite(qliktest.SiteConfig{Now: func() time.Time { return now }})
	t.Cleanup(s.Close)
	addSecret(privateBlocks(string(s.ClientKeyPEM)))
	return &site{s, writeFile(t, "root.pem", s.CAPEM), writeFile(t, "client.pem", s.ClientCertPEM), writeFile(t, "client_key.pem", s.ClientKeyPEM)}
}

func (s *site) setup(t *testing.T, args ...string) runResult {
	return qsAny(t, nil, append([]string{"setup", "qseow", "--qrs", s.QRSURL, "--client-cert", s.cert, "--client-key", s.key,
		"--ca-file", s.ca, "--json", "--prefix", "jwt", "--cert-file", certPath}, args...)...)
}

// doctor runs doctor qseow for CORP\anna on prefix jwt unless args say
// otherwise.
func (s *site) doctor(t *testing.T, args ...string) doctorResult {
	for _, def := range [][2]string{{"--userid", "anna"}, {"--prefix", "jwt"}} {
		if !slices.Contains(args, def[0]) {
			args = append(args, def[:]...)
		}
	}
	return doctorJSON(t, qsAny(t, nil, append([]string{"doctor", "qseow", "--server", s.URL, "--ca-file", s.ca, "--json",
		"--userdir", "CORP"}, args...)...))
}

// qrs makes a raw QRS call with the site's client certificate.
func (s *site) qrs(t *testing.T, method, path string, body any) *http.Response {
	t.Helper()
	pair, err := tlsPair(s.ClientCertPEM, s.ClientKeyPEM)
	require.NoError(t, err)
	c := s.Client()
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = pair
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, s.QRSURL+path+"?xrfkey=abcdefghijklmnop", bytes.NewReader(b))
	req.Header.Set("X-Qlik-Xrfkey", "abcdefghijklmnop")
	req.Header.Set("X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_repository")
	resp, err := c.Do(req)
	require.NoError(t, err)
	return resp
}

func TestSetupQSEoWThenDoctorThenLogin(t *testing.T) {
	s := newSite(t, fixedNow)
	res := setupJSON(t, s.setup(t, "--groups-claim", "group", "--mashup-origin", "https://mashup.example.com"))
	require.Len(t, res.Steps, 3)
	assert.Equal(t, "create", res.Steps[0].Action)
	assert.Equal(t, "link", res.Steps[1].Action)
	assert.Equal(t, "central (central)", res.Steps[1].Name)
	assert.Equal(t, "link", res.Steps[2].Action)
	assert.Equal(t, 3, s.Changes())

	assert.Zero(t, setupJSON(t, s.setup(t, "--groups-claim", "group", "--mashup-origin", "https://mashup.example.com")).Changes, "a second setup changes nothing")
	assert.Equal(t, 3, s.Changes())

	d := s.doctor(t, "--cert-privatekey-file", keyPath)
	require.True(t, d.OK, "%+v", d.Checks)
	assert.True(t, s.doctor(t, "--cert-privatekey-file", keyPath, "--origin", "https://mashup.example.com").OK, "the mashup's origin is allowed")

	r := qsAny(t, nil, "create-qseow", "--userdir", "CORP", "--userid", "ben", "--cert-privatekey-file", keyPath)
	require.Equal(t, 0, r.code, r.stderr)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/jwt/qps/user?xrfkey=abcdefghijklmnop", nil)
	req.Header.Set("X-Qlik-Xrfkey", "abcdefghijklmnop")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(r.stdout))
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A changed setting updates the virtual proxy in place.
	res = setupJSON(t, s.setup(t, "--groups-claim", "group", "--mashup-origin", "https://mashup.example.com", "--audience", "qlik"))
	require.Equal(t, 1, res.Changes)
	assert.Equal(t, "update", res.Steps[0].Action)
	assert.Contains(t, res.Steps[0].Detail, "jwtAudience")
	_, cause := s.doctor(t, "--cert-privatekey-file", keyPath).failedCause()
	assert.Equal(t, "audience-mismatch", cause)
	assert.True(t, s.doctor(t, "--cert-privatekey-file", keyPath, "--audience", "qlik").OK)
}

func TestSetupQSEoWDryRunChangesNothing(t *testing.T) {
	s := newSite(t, fixedNow)
	r := qsAny(t, nil, "setup", "qseow", "--qrs", s.QRSURL, "--client-cert", s.cert, "--client-key", s.key,
		"--ca-file", s.ca, "--prefix", "jwt", "--cert-file", certPath, "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "would create")
	assert.Contains(t, r.stdout, "would link")
	assert.Zero(t, s.Changes())
	_, cause := s.doctor(t, "--cert-privatekey-file", keyPath).failedCause()
	assert.Equal(t, "virtual-proxy-missing", cause, "a token for a virtual proxy never set up is refused")
}

func TestDoctorQSEoWNamesEachFailure(t *testing.T) {
	s := newSite(t, fixedNow)
	setupJSON(t, s.setup(t))
	_, prefix := keygen(t, "--bits", "2048")
	skewed := newSite(t, fixedNow.Add(3*time.Hour))
	setupJSON(t, skewed.setup(t))

	tests := []struct {
		name        string
		s           *site
		args        []string
		check, want string
	}{
		{"prefix never set up", s, []string{"--prefix", "other", "--cert-privatekey-file", keyPath}, "bearer", "virtual-proxy-missing"},
		{"claim the proxy does not read", s, []string{"--prefix", "jwt", "--userid-claim", "user", "--cert-privatekey-file", keyPath}, "bearer", "missing-claim"},
		{"another key", s, []string{"--prefix", "jwt", "--cert-privatekey-file", prefix + "privatekey.pem"}, "bearer", "wrong-key"},
		{"clock skew", skewed, []string{"--prefix", "jwt", "--cert-privatekey-file", keyPath}, "bearer", "clock-skew"},
		{"host allow list", s, []string{"--prefix", "jwt", "--cert-privatekey-file", keyPath, "--origin", "https://elsewhere.example.com"}, "websocket", "host-allow-list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.s.doctor(t, tc.args...)
			check, cause := d.failedCause()
			assert.Equal(t, tc.check, check)
			assert.Equal(t, tc.want, cause)
		})
	}

	t.Run("too many sessions", func(t *testing.T) {
		r := qsAny(t, nil, "create-qseow", "--userdir", "CORP", "--userid", "busy", "--cert-privatekey-file", keyPath)
		require.Equal(t, 0, r.code)
		for range qliktest.DefaultMaxSessions {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/jwt/qps/user?xrfkey=abcdefghijklmnop", nil)
			req.Header.Set("X-Qlik-Xrfkey", "abcdefghijklmnop")
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(r.stdout))
			resp, err := s.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
		d := s.doctor(t, "--prefix", "jwt", "--userid", "busy", "--cert-privatekey-file", keyPath)
		check, cause := d.failedCause()
		assert.Equal(t, "bearer", check)
		assert.Equal(t, "too-many-sessions", cause)
	})

	t.Run("not linked to the central proxy", func(t *testing.T) {
		resp := s.qrs(t, http.MethodGet, "/qrs/proxyservice/full", nil)
		var services []map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&services))
		resp.Body.Close()
		for _, svc := range services {
			if svc["serverNodeConfiguration"].(map[string]any)["isCentral"] == true {
				svc["settings"].(map[string]any)["virtualProxies"] = []any{}
				resp := s.qrs(t, http.MethodPut, "/qrs/proxyservice/"+svc["id"].(string), svc)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
		}
		check, cause := s.doctor(t, "--prefix", "jwt", "--cert-privatekey-file", keyPath).failedCause()
		assert.Equal(t, "csrf-token", check)
		assert.Equal(t, "proxy-not-linked-to-central", cause)

		res := setupJSON(t, s.setup(t))
		assert.Equal(t, 1, res.Changes, "setup links the central proxy again")
		assert.True(t, s.doctor(t, "--prefix", "jwt", "--cert-privatekey-file", keyPath).OK)
	})
}

func TestSetupQSEoWRefusals(t *testing.T) {
	s := newSite(t, fixedNow)
	r := qsAny(t, nil, "setup", "qseow", "--qrs", s.QRSURL, "--client-cert", s.cert, "--client-key", s.cert,
		"--ca-file", s.ca, "--prefix", "jwt", "--cert-file", certPath)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(--client-key)")
	r = s.setup(t, "--mashup-origin", "https://*.example.com")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(--mashup-origin)")
	r = qsAny(t, nil, "setup", "qseow")
	assert.Equal(t, exitUsage, r.code)
	r = qsAny(t, nil, "setup", "mars")
	assert.Equal(t, exitUsage, r.code)
	assert.Zero(t, s.Changes())
}

func tlsPair(cert, key []byte) ([]tls.Certificate, error) {
	p, err := tls.X509KeyPair(cert, key)
	return []tls.Certificate{p}, err
}
