package qsjwt

import (
	"crypto"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeText(t *testing.T) {
	b, err := os.ReadFile("testdata/test-only-cloud-othertool.jwt")
	require.NoError(t, err)
	d, err := Decode(string(b))
	require.NoError(t, err)
	assert.Equal(t, `UNVERIFIED: decoded without a key; the signature was not checked, so anyone could have written these values.
header:
  alg  "RS256"
  kid  "kid-1"
  typ  "JWT"
claims:
  iss             "tenant.eu.qlikcloud.com"
  aud             ["qlik.api/login/jwt-session"]
  sub             "6f1c2a9e-3b7d-4e5f-9a8b-1c2d3e4f5a6b"
  subType         "user"
  name            "Anna Andersson"
  email           "anna@example.com"
  email_verified  "true"
  group           ["Sales"]
  iat             1795953600  (2026-11-29T12:00:00Z)
  exp             1827489600  (2027-11-29T12:00:00Z)
`, d.String())
	assert.Equal(t, map[string]time.Time{"iat": fixedNow, "exp": fixedNow.AddDate(1, 0, 0)}, d.Dates)
	assert.Len(t, d.Signature, 256)
}

func TestDecodeJSON(t *testing.T) {
	claims := `{"sub":"a","iat":1795953600,"nbf":1795953599.5,"exp":1795953900000,"name":"x"}`
	d, err := Decode(forge(`{"alg":"none"}`, claims, nil))
	require.NoError(t, err)
	assert.Empty(t, d.Signature)
	assert.Equal(t, claims, string(d.Claims), "claims exactly as written")
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `{"unverified":true,"header":{"alg":"none"},"claims":`+claims+`,
		"dates":{"iat":"2026-11-29T12:00:00Z","nbf":"2026-11-29T11:59:59.5Z","exp":"58881-07-06T11:20:00Z"}}`, string(b))
	assert.True(t, strings.HasPrefix(string(b), `{"unverified":true,`), "the mark comes first: %s", b)
}

func TestDecodeShowsNamesAndValuesSafely(t *testing.T) {
	// A name holding a newline or a quote cannot forge a line of the text.
	d, err := Decode(forge(`{"alg":"RS256"}`, `{"userId\nalg":"x","exp":"1795953600","a\"b":null}`, rsaSign(testKey(t), crypto.SHA256)))
	require.NoError(t, err)
	text := d.String()
	assert.Contains(t, text, `  userId\nalg  "x"`)
	assert.Contains(t, text, `  a\"b         null`)
	assert.Contains(t, text, `  exp          "1795953600"`+"\n", "a string is not a NumericDate: no date shown")
	assert.Empty(t, d.Dates)
}
