package qsjwt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsCompileOnlyWhereRead builds small programs against this
// package with the go command: every option compiles on each constructor
// that reads it, and fails to compile, with the type error naming the option
// interface, on each constructor that would not read it.
func TestOptionsCompileOnlyWhereRead(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	build := func(t *testing.T, body string) (string, error) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "main.go")
		src := "package main\n\nimport (\n\t\"time\"\n\n\t\"github.com/qsjwt/qsjwt\"\n)\n\nvar _ = time.Second\n\nfunc main() {\n" + body + "\n}\n"
		require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
		cmd := exec.Command(goCmd, "build", "-gcflags=-e", "-o", os.DevNull, file)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	t.Run("every option where it is read", func(t *testing.T) {
		out, err := build(t, `	var s qsjwt.Signer
	var now func() time.Time
	_, _ = qsjwt.NewQSEoW(s, qsjwt.WithTTL(time.Hour), qsjwt.WithAlgorithm(qsjwt.RS512), qsjwt.WithClock(now),
		qsjwt.WithAudience("a"), qsjwt.WithUserIDClaim("u"), qsjwt.WithUserDirectoryClaim("d"), qsjwt.WithGroupsClaim("g"), nil)
	_, _ = qsjwt.NewQSEoWVerifier(nil, qsjwt.WithClockSkew(0), qsjwt.WithClock(now),
		qsjwt.WithAudience("a"), qsjwt.WithUserIDClaim("u"), qsjwt.WithUserDirectoryClaim("d"), qsjwt.WithGroupsClaim("g"), nil)
	_, _ = qsjwt.NewCloud(s, "iss", "kid", qsjwt.WithTTL(time.Minute), qsjwt.WithNotBeforeSkew(0), qsjwt.WithClock(now), nil)
	_, _ = qsjwt.NewCloudVerifier(nil, qsjwt.WithIssuer("iss"), qsjwt.WithKeyID("kid"), qsjwt.WithClockSkew(0), qsjwt.WithClock(now), nil)
	_, _ = qsjwt.NewClientAssertion(s, "c", "https://t", "k", qsjwt.WithTTL(time.Minute), qsjwt.WithAlgorithm(qsjwt.ES384), qsjwt.WithClock(now), nil)
	_, _ = qsjwt.VerifyClientAssertion("t", nil, "c", "https://t", qsjwt.WithClockSkew(0), qsjwt.WithClock(now), nil)`)
		require.NoError(t, err, "%s", out)
	})

	misuses := []struct{ call, iface string }{
		{`qsjwt.NewQSEoW(nil, qsjwt.WithClockSkew(0))`, "qsjwt.QSEoWOption"},
		{`qsjwt.NewCloud(nil, "i", "k", qsjwt.WithClockSkew(0))`, "qsjwt.CloudOption"},
		{`qsjwt.NewCloud(nil, "i", "k", qsjwt.WithIssuer("i"))`, "qsjwt.CloudOption"},
		{`qsjwt.NewCloud(nil, "i", "k", qsjwt.WithKeyID("k"))`, "qsjwt.CloudOption"},
		{`qsjwt.NewCloud(nil, "i", "k", qsjwt.WithAudience("a"))`, "qsjwt.CloudOption"},
		{`qsjwt.NewCloud(nil, "i", "k", qsjwt.WithAlgorithm(qsjwt.RS256))`, "qsjwt.CloudOption"},
		{`qsjwt.NewQSEoW(nil, qsjwt.WithNotBeforeSkew(0))`, "qsjwt.QSEoWOption"},
		{`qsjwt.NewClientAssertion(nil, "c", "t", "k", qsjwt.WithClockSkew(0))`, "qsjwt.AssertionOption"},
		{`qsjwt.NewClientAssertion(nil, "c", "t", "k", qsjwt.WithAudience("a"))`, "qsjwt.AssertionOption"},
		{`qsjwt.NewClientAssertion(nil, "c", "t", "k", qsjwt.WithNotBeforeSkew(0))`, "qsjwt.AssertionOption"},
		{`qsjwt.VerifyClientAssertion("t", nil, "c", "u", qsjwt.WithKeyID("k"))`, "qsjwt.VerifierOption"},
		{`qsjwt.NewQSEoW(nil, qsjwt.WithIssuer("i"))`, "qsjwt.QSEoWOption"},
		{`qsjwt.NewQSEoWVerifier(nil, qsjwt.WithTTL(time.Hour))`, "qsjwt.QSEoWVerifierOption"},
		{`qsjwt.NewQSEoWVerifier(nil, qsjwt.WithAlgorithm(qsjwt.RS256))`, "qsjwt.QSEoWVerifierOption"},
		{`qsjwt.NewCloudVerifier(nil, qsjwt.WithTTL(time.Hour))`, "qsjwt.CloudVerifierOption"},
		{`qsjwt.NewCloudVerifier(nil, qsjwt.WithNotBeforeSkew(0))`, "qsjwt.CloudVerifierOption"},
		{`qsjwt.NewCloudVerifier(nil, qsjwt.WithAudience("a"))`, "qsjwt.CloudVerifierOption"},
		{`qsjwt.NewCloudVerifier(nil, qsjwt.WithUserIDClaim("u"))`, "qsjwt.CloudVerifierOption"},
	}
	var body strings.Builder
	const firstLine = 12 // the line of main.go that holds the first body line
	for _, m := range misuses {
		fmt.Fprintf(&body, "\t_, _ = %s\n", m.call)
	}
	out, err := build(t, body.String())
	require.Error(t, err, "misused options must not compile")
	for i, m := range misuses {
		line := fmt.Sprintf("main.go:%d:", firstLine+i)
		var msg string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, line) {
				msg = l
			}
		}
		if assert.NotEmpty(t, msg, "%s compiles; it must not:\n%s", m.call, out) {
			assert.Contains(t, msg, "as "+m.iface+" value", m.call)
		}
	}
}

// TestOptionsRefuseTypeAssertion checks the same at run time: an option's
// value does not satisfy the interface of a constructor that would not read
// it, so not even a type assertion moves it there.
func TestOptionsRefuseTypeAssertion(t *testing.T) {
	for _, tc := range []struct {
		opt                                      any
		qseow, qseowVerifier, cloud, cloudVerify bool
	}{
		{WithTTL(time.Hour), true, false, true, false},
		{WithClock(fixedClock), true, true, true, true},
		{WithClockSkew(0), false, true, false, true},
		{WithAlgorithm(RS256), true, false, false, false},
		{WithAudience("a"), true, true, false, false},
		{WithGroupsClaim("g"), true, true, false, false},
		{WithNotBeforeSkew(0), false, false, true, false},
		{WithIssuer("i"), false, false, false, true},
		{WithKeyID("k"), false, false, false, true},
	} {
		_, q := tc.opt.(QSEoWOption)
		_, qv := tc.opt.(QSEoWVerifierOption)
		_, c := tc.opt.(CloudOption)
		_, cv := tc.opt.(CloudVerifierOption)
		assert.Equal(t, []bool{tc.qseow, tc.qseowVerifier, tc.cloud, tc.cloudVerify}, []bool{q, qv, c, cv}, "%v", tc.opt)
	}
}
