package pkcs11

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURI(t *testing.T) {
	u, err := ParseURI("pkcs11:token=My%20Token;serial=42;slot-id=7;object=jwt;id=%01%02;type=private;x-vendor=1" +
		"?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:///run/pin")
	require.NoError(t, err)
	assert.Equal(t, "My Token", u.Token)
	assert.Equal(t, "42", u.Serial)
	require.NotNil(t, u.SlotID)
	assert.Equal(t, uint(7), *u.SlotID)
	assert.Equal(t, "jwt", u.Object)
	assert.Equal(t, []byte{1, 2}, u.ID)
	assert.Equal(t, "/usr/lib/softhsm/libsofthsm2.so", u.ModulePath)
	assert.Equal(t, "file:///run/pin", u.PINSource)
	assert.Equal(t, "pkcs11:token=My%20Token;serial=42;slot-id=7;object=jwt;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:///run/pin", u.String())

	again, err := ParseURI(u.String())
	require.NoError(t, err)
	assert.Equal(t, u, again, "String round-trips (without pin-value)")
}

func TestParseURIErrors(t *testing.T) {
	const secret = "s3cr3t-PIN-9931"
	for _, tc := range []struct{ uri, want string }{
		{"token=x", `must start with "pkcs11:"`},
		{"pkcs11:token=x;lable=jwt", "unknown path attribute lable"},
		{"pkcs11:token=x;pin=" + secret, "unknown path attribute pin"},
		{"pkcs11:token=x?pin-value=" + secret + "&pin-value=" + secret, "pin-value is given twice"},
		{"pkcs11:token=x?pin-value=%zz" + secret, "pin-value has a bad %-escape"},
		{"pkcs11:token=x;type=cert", "type=private"},
		{"pkcs11:slot-id=one", "slot-id must be a decimal number"},
		{"pkcs11:token=x?module-name=softhsm2", "module-path="},
		{"pkcs11:" + secret, "is not a name=value attribute"},
	} {
		_, err := ParseURI(tc.uri)
		require.ErrorIs(t, err, ErrURI, tc.uri)
		assert.Contains(t, err.Error(), tc.want, tc.uri)
		assert.NotContains(t, fmt.Sprintf("%+v", err), secret, tc.uri)
	}
}

func TestOpenChecksBeforeLoading(t *testing.T) {
	_, err := Open("pkcs11:token=x;object=y")
	require.ErrorIs(t, err, ErrURI)
	assert.Contains(t, err.Error(), "module-path=")
	_, err = Open("pkcs11:token=x?module-path=/a.so", WithModulePath("/b.so"))
	require.ErrorIs(t, err, ErrURI)
	_, err = Open("pkcs11:token=x?module-path=/a.so", WithMaxSessions(0))
	require.ErrorContains(t, err, "WithMaxSessions(0)")
}

func TestReadPINSource(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	pin, err := readPINSource(write("crlf", "4711-pin\r\nsecond line\n"))
	require.NoError(t, err)
	assert.Equal(t, "4711-pin", pin)
	pin, err = readPINSource("file://" + write("plain", "4711-pin"))
	require.NoError(t, err)
	assert.Equal(t, "4711-pin", pin)

	_, err = readPINSource(write("empty", "\n"))
	require.ErrorIs(t, err, ErrPIN)
	_, err = readPINSource("file:relative")
	require.ErrorIs(t, err, ErrPIN)
	big := make([]byte, maxPINFile+1)
	for i := range big {
		big[i] = 'x'
	}
	_, err = readPINSource(write("big", string(big)))
	require.ErrorIs(t, err, ErrPIN)
	assert.NotContains(t, err.Error(), "xxxx")
}
