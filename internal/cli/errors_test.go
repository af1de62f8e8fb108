package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/qsjwt/qsjwt"
)

func TestReport(t *testing.T) {
	var b bytes.Buffer
	code := report(&b, errors.Join(Usagef("--a", "first"), Failf("--b", "second\nline")))
	assert.Equal(t, exitUsage, code, "the highest code wins")
	assert.Equal(t, "qs-jwt: first (--a)\nqs-jwt: second line (--b)\n", b.String(), "one line per problem")

	b.Reset()
	assert.Equal(t, exitFailed, report(&b, errors.New("qsjwt: something")))
	assert.Equal(t, "qs-jwt: something (--help)\n", b.String())

	assert.Equal(t, exitOK, report(&b, nil))
}

func TestFlatten(t *testing.T) {
	a, c := errors.New("a"), errors.New("c")
	assert.Equal(t, []error{a, c}, flatten(errors.Join(a, errors.Join(c))))
	wrapped := fmt.Errorf("%w: cannot read: %w", qsjwt.ErrKey, fs.ErrNotExist)
	assert.Equal(t, []error{wrapped}, flatten(wrapped), "one error wrapping two is one problem")
}

func TestLibError(t *testing.T) {
	err := LibError(errors.Join(
		&qsjwt.OptionError{Option: "issuer", Reason: "the issuer is empty"},
		&qsjwt.ClaimError{Claim: "sub", Field: "CloudUser.Subject", Reason: "is empty"},
		&qsjwt.ClaimError{Claim: "groups", Field: "CloudUser.Groups[2]", Reason: "a group name is empty"},
		fmt.Errorf("%w: RSA key has 1024 bits", qsjwt.ErrKey),
	), "--cert-privatekey-env", map[string]string{"--sub": "--userid"})
	var b bytes.Buffer
	assert.Equal(t, exitUsage, report(&b, err), "a flag's value Qlik refuses is a usage error")
	assert.Equal(t, "qs-jwt: the issuer is empty (--issuer)\n"+
		"qs-jwt: claim \"sub\": is empty (--userid)\n"+
		"qs-jwt: claim \"groups\": a group name is empty (--groups)\n"+
		"qs-jwt: key: RSA key has 1024 bits (--cert-privatekey-env)\n", b.String())
}
