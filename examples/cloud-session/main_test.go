package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

func TestRunAgainstTheEmulator(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	s := out.String()
	assert.Contains(t, s, "emulated Qlik Cloud tenant at https://127.0.0.1:")
	assert.Contains(t, s, "as anna-42\n")
	assert.Contains(t, s, "GET /api/v1/users/me: Anna Andersson <anna@example.com>, subject anna-42")
	assert.Contains(t, s, "/app/00000000-0000-0000-0000-000000000000?qlik-csrf-token=… with 3 session cookie(s)")
	assert.Contains(t, s, "logins: 1, CSRF token fetches: 1", "two calls, one login")
}

// TestRunAgainstATenant points the flags at a "real" tenant, plain http so
// that no CA file is needed, and the key in QSJWT_KEY.
func TestRunAgainstATenant(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{Issuer: "example.com", KeyID: "k-1", PlainHTTP: true})
	defer tenant.Close()
	t.Setenv("QSJWT_KEY", string(tenant.KeyPEM()))
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-tenant", tenant.URL, "-issuer", "example.com", "-keyid", "k-1", "-subject", "bob-7", "-email", "bob@example.com", "-name", "Bob"}, &out))
	assert.Contains(t, out.String(), "GET /api/v1/users/me: Bob <bob@example.com>, subject bob-7")
	assert.Equal(t, 1, tenant.Logins("bob-7"))

	err := run(context.Background(), []string{"-tenant", tenant.URL, "-issuer", "other", "-keyid", "k-1"}, &out)
	var qe *session.QlikError
	require.True(t, errors.As(err, &qe), "%v", err)
	assert.Equal(t, "INTERNAL-TOKEN-4", qe.Code)
}
