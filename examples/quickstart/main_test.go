package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun checks what quickstart prints with the standard library alone: two
// tokens, each verifying with the printed certificate, and their claims.
func TestRun(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, func() time.Time { return now }))

	block, _ := pem.Decode(out.Bytes()[strings.Index(out.String(), "-----BEGIN CERTIFICATE-----"):])
	require.NotNil(t, block, "the certificate is printed as PEM")
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, x509.SHA256WithRSA, cert.SignatureAlgorithm)
	pub := cert.PublicKey.(*rsa.PublicKey)

	var tokens []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Count(line, ".") == 2 && strings.HasPrefix(line, "eyJ") {
			tokens = append(tokens, line)
		}
	}
	require.Len(t, tokens, 2, "one QSEoW and one Qlik Cloud token, each on its own line")
	claims := make([]map[string]any, 2)
	for i, tok := range tokens {
		p := strings.Split(tok, ".")
		sig, err := base64.RawURLEncoding.DecodeString(p[2])
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
		require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig), "token %d verifies with the printed certificate", i)
		js, err := base64.RawURLEncoding.DecodeString(p[1])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &claims[i]))
		assert.Contains(t, out.String(), `"iat": `+fmtInt(now.Unix()), "decoded claims are printed")
	}
	assert.Equal(t, "anna", claims[0]["userId"])
	assert.Equal(t, "EXAMPLE", claims[0]["userDirectory"])
	assert.Equal(t, "qlik.api/login/jwt-session", claims[1]["aud"])
	assert.Equal(t, true, claims[1]["email_verified"])
	assert.Equal(t, "anna-42", claims[1]["sub"])
}

func fmtInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
