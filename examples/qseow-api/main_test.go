package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

func TestRunAgainstTheEmulator(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-calls", "5"}, &out))
	assert.Contains(t, out.String(), "emulated QSEoW virtual proxy at https://127.0.0.1:")
	assert.Contains(t, out.String(), `/jwt/qrs/about as EXAMPLE\anna: Qlik Sense repository 14.254.6`)
	assert.Contains(t, out.String(), `5 calls, 1 proxy session(s) opened for EXAMPLE\anna`)
}

// TestRunAgainstAServer points the flags at a "real" server (an emulator the
// program does not know about), as a user would with their own.
func TestRunAgainstAServer(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{Prefix: "sales", UserIDClaim: "user", UserDirectoryClaim: "directory", Audience: "qs"})
	defer p.Close()
	dir := t.TempDir()
	keyFile, caFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(keyFile, p.KeyPEM(), 0o600))
	require.NoError(t, os.WriteFile(caFile, p.ServerCertificatePEM(), 0o600))

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-server", p.URL, "-prefix", "sales", "-key-file", keyFile, "-ca-file", caFile,
		"-user-id-claim", "user", "-user-dir-claim", "directory", "-audience", "qs", "-user-dir", "CORP", "-user-id", "bob"}, &out))
	assert.Contains(t, out.String(), `as CORP\bob`)
	assert.Contains(t, out.String(), "3 calls made in one proxy session")
	assert.Equal(t, 1, p.SessionsOpened(`CORP\bob`))

	err := run(context.Background(), []string{"-server", p.URL, "-prefix", "sales", "-key-file", keyFile, "-ca-file", caFile}, &out)
	assert.ErrorContains(t, err, "QPS-JWT-1", "a proxy with other claim names refuses the token, and the error says why")
}
