package qliktest_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// qrsCall makes a QRS call with the site's client certificate, an xrfkey
// and X-Qlik-User; hdr overrides or (with "") drops headers.
func qrsCall(t *testing.T, s *qliktest.Site, method, path string, body any, hdr map[string]string) (int, any) {
	t.Helper()
	pair, err := tls.X509KeyPair(s.ClientCertPEM, s.ClientKeyPEM)
	require.NoError(t, err)
	c := s.Client()
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{pair}
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	req, _ := http.NewRequest(method, s.QRSURL+path+"?xrfkey=abcdefghijklmnop", bytes.NewReader(b))
	req.Header.Set("X-Qlik-Xrfkey", "abcdefghijklmnop")
	req.Header.Set("X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_repository")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func jwtProxy(prefix string, cert []byte) map[string]any {
	return map[string]any{"prefix": prefix, "description": "jwt", "sessionCookieHeaderName": "X-Qlik-Session-" + prefix,
		"authenticationMethod": 4, "jwtPublicKeyCertificate": string(cert), "jwtAttributeUserId": "userId",
		"jwtAttributeUserDirectory": "userDirectory", "websocketCrossOriginWhiteList": []string{}}
}

func TestQRSNeedsClientCertificateXrfkeyAndUser(t *testing.T) {
	s := qliktest.NewSite(qliktest.SiteConfig{})
	defer s.Close()
	_, err := s.Client().Get(s.QRSURL + "/qrs/about?xrfkey=abcdefghijklmnop")
	assert.Error(t, err, "no client certificate: the TLS handshake fails")
	status, _ := qrsCall(t, s, http.MethodGet, "/qrs/about", nil, map[string]string{"X-Qlik-Xrfkey": ""})
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = qrsCall(t, s, http.MethodGet, "/qrs/about", nil, map[string]string{"X-Qlik-User": ""})
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = qrsCall(t, s, http.MethodGet, "/qrs/about", nil, nil)
	assert.Equal(t, http.StatusOK, status)
}

func TestQRSRefusesMalformedVirtualProxies(t *testing.T) {
	s := qliktest.NewSite(qliktest.SiteConfig{})
	defer s.Close()
	q := qliktest.NewQSEoW(qliktest.QSEoWConfig{})
	defer q.Close()
	cert := q.CertificatePEM()
	with := func(change func(m map[string]any)) map[string]any { m := jwtProxy("jwt", cert); change(m); return m }
	for name, body := range map[string]any{
		"not JSON":         "{",
		"no cookie name":   with(func(m map[string]any) { delete(m, "sessionCookieHeaderName") }),
		"prefix slash":     with(func(m map[string]any) { m["prefix"] = "/jwt" }),
		"method 9":         with(func(m map[string]any) { m["authenticationMethod"] = 9 }),
		"no certificate":   with(func(m map[string]any) { delete(m, "jwtPublicKeyCertificate") }),
		"bad certificate":  with(func(m map[string]any) { m["jwtPublicKeyCertificate"] = "MIIB" }),
		"no user ID claim": with(func(m map[string]any) { m["jwtAttributeUserId"] = "" }),
		"wildcard host":    with(func(m map[string]any) { m["websocketCrossOriginWhiteList"] = []string{"*"} }),
		"map item":         with(func(m map[string]any) { m["jwtAttributeMap"] = []any{map[string]any{"jwtAttribute": "group"}} }),
	} {
		status, _ := qrsCall(t, s, http.MethodPost, "/qrs/virtualproxyconfig", body, nil)
		assert.Equal(t, http.StatusBadRequest, status, name)
	}
	status, _ := qrsCall(t, s, http.MethodPost, "/qrs/virtualproxyconfig", jwtProxy("jwt", cert), nil)
	require.Equal(t, http.StatusCreated, status)
	status, _ = qrsCall(t, s, http.MethodPost, "/qrs/virtualproxyconfig", jwtProxy("jwt", cert), nil)
	assert.Equal(t, http.StatusConflict, status, "prefixes are unique")
	assert.Equal(t, 1, s.Changes())
}

func TestSiteServesOnlyLinkedVirtualProxies(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s := qliktest.NewSite(qliktest.SiteConfig{Now: func() time.Time { return now }})
	defer s.Close()
	q := qliktest.NewQSEoW(qliktest.QSEoWConfig{})
	defer q.Close()
	status, created := qrsCall(t, s, http.MethodPost, "/qrs/virtualproxyconfig", jwtProxy("jwt", q.CertificatePEM()), nil)
	require.Equal(t, http.StatusCreated, status)
	vpID := created.(map[string]any)["id"]

	tok := signJWT(t, q.Key, map[string]any{"alg": "RS256"}, map[string]any{"userId": "anna", "userDirectory": "CORP", "exp": now.Unix() + 60})
	get := func(path string, bearer bool, cookies []*http.Cookie) (int, []*http.Cookie) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path+"?xrfkey=abcdefghijklmnop", nil)
		req.Header.Set("X-Qlik-Xrfkey", "abcdefghijklmnop")
		if bearer {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Cookies()
	}
	status, _ = get("/jwt/qps/user", true, nil)
	assert.Equal(t, http.StatusNotFound, status, "not linked to any proxy service")

	status, list := qrsCall(t, s, http.MethodGet, "/qrs/proxyservice/full", nil, nil)
	require.Equal(t, http.StatusOK, status)
	services := list.([]any)
	require.Len(t, services, 2)
	link := func(svc map[string]any) int {
		svc["settings"].(map[string]any)["virtualProxies"] = []any{map[string]any{"id": vpID}}
		status, _ := qrsCall(t, s, http.MethodPut, "/qrs/proxyservice/"+svc["id"].(string), svc, nil)
		return status
	}
	var central, rim map[string]any
	for _, x := range services {
		svc := x.(map[string]any)
		if svc["serverNodeConfiguration"].(map[string]any)["isCentral"] == true {
			central = svc
		} else {
			rim = svc
		}
	}
	stale := map[string]any{}
	for k, v := range rim {
		stale[k] = v
	}
	require.Equal(t, http.StatusOK, link(rim))
	assert.Equal(t, http.StatusConflict, link(stale), "a PUT with a stale modifiedDate is refused")
	status, _ = qrsCall(t, s, http.MethodPut, "/qrs/proxyservice/"+central["id"].(string), map[string]any{"id": central["id"], "modifiedDate": central["modifiedDate"]}, nil)
	assert.Equal(t, http.StatusBadRequest, status, "the whole entity is needed")

	status, cookies := get("/jwt/qps/user", true, nil)
	require.Equal(t, http.StatusOK, status, "linked to the rim proxy: the Bearer call works")
	status, _ = get("/jwt/qps/csrftoken", false, cookies)
	assert.Equal(t, http.StatusBadRequest, status, "not linked to the central proxy: /qps/csrftoken answers 400")
	require.Equal(t, http.StatusOK, link(central))
	status, _ = get("/jwt/qps/csrftoken", false, cookies)
	assert.Equal(t, http.StatusOK, status)
}
