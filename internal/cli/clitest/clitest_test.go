package clitest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretsLoaded guards the key-material check itself: it must know the
// fixture keys' lines, and catch one.
func TestSecretsLoaded(t *testing.T) {
	require.NoError(t, AddFixtureSecrets())
	secrets.Lock()
	n := len(secrets.lines)
	secrets.Unlock()
	assert.Greater(t, n, 100)
	lines := strings.Split(ReadFixture(t, "test-only-rsa2048-pkcs8.pem"), "\n")
	ft := &testing.T{}
	AssertNoSecrets(ft, "error: "+lines[3])
	assert.True(t, ft.Failed(), "a key line in an output is caught")
}
