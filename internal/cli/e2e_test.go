package cli

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinary builds qs-jwt and runs it as a pipeline would: exit codes,
// stdout holding the token alone, everything else on stderr.
func TestBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "qs-jwt")
	// As scripts/release.sh builds them: static, with the version stamped,
	// qs-jwt-net beside qs-jwt.
	for _, cmd := range []string{"qs-jwt", "qs-jwt-net"} {
		buildCommand(t, dir, cmd, "v9.9.9-test")
		if f, err := elf.Open(filepath.Join(dir, cmd)); err == nil { // on Linux: no dynamic loader, no shared libraries
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "the binary is static")
			}
			libs, _ := f.ImportedLibraries()
			assert.Empty(t, libs)
			f.Close()
		}
	}

	key := strings.ReplaceAll(readFixture(t, "test-only-rsa2048-pkcs8.pem"), "\n", `\n`) // as a CI secret often holds it
	exe := func(stdin string, args ...string) runResult {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "QS_JWT_KEY="+key)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		r := runResult{code, stdout.String(), stderr.String()}
		assertNoSecrets(t, r.stdout, r.stderr)
		return r
	}

	r := exe("", "create-qscloud", "--sub", "anna-42", "--username", "Anna", "--useremail", "anna@example.com",
		"--issuer", "tenant.eu.qlikcloud.com", "--keyid", "kid-1", "--groups", "g1", "group 2", "--cert-privatekey-env", "QS_JWT_KEY")
	d := token(t, r, certPath)
	assert.Equal(t, `["g1","group 2"]`, d.claim("groups"))
	assert.Contains(t, r.stderr, "Created a Qlik Cloud token")

	// The token goes through a pipe into decode.
	v := exe(r.stdout, "decode", "--jwt-file", "-", "--cert-publickey-file", certPath, "--variant", "cloud",
		"--expected-issuer", "tenant.eu.qlikcloud.com", "--keyid", "kid-1")
	assert.Equal(t, 0, v.code, v.stderr)
	assert.Contains(t, v.stdout, "Qlik Cloud would accept this token")

	r = exe("", "create-qseow", "--userdir", "D", "--userid", "u", "--expires", "3600", "--cert-privatekey-env", "QS_JWT_KEY")
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.Regexp(t, errLine, strings.TrimSpace(r.stderr))

	r = exe("", "create-qseow", "--userdir", "D", "--userid", "u", "--cert-privatekey-env", "NOT_SET")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "qs-jwt: environment variable NOT_SET is empty or not set; put the PEM private key in it (--cert-privatekey-env)\n", r.stderr)

	// The key given as the command, as the process receives it.
	r = exe("", readFixture(t, "test-only-rsa2048-pkcs8.pem"))
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "looks like a PEM key, not a command")

	r = exe("", "decode", "--jwt-file", otherToolJWT, "--cert-publickey-file", certPath)
	assert.Equal(t, 1, r.code, "a token Qlik would refuse")

	r = exe("", "--version")
	assert.Equal(t, 0, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "qs-jwt v9.9.9-test go1."), "the stamped version: %s", r.stdout)

	// Nothing of qsjwt's computes before main: every start of every command
	// would pay for it (see shapes.go and Main's doc).
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	trace, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", trace)
	for _, l := range strings.Split(string(trace), "\n") {
		// init github.com/qsjwt/qsjwt/internal/engine @1.2 ms, 0.006 ms clock, 0 bytes, 0 allocs
		if f := strings.Fields(l); len(f) == 11 && f[0] == "init" && strings.HasPrefix(f[1], "github.com/qsjwt/") {
			assert.Equal(t, "0", f[9], "package %s allocates at start: %s", f[1], l)
		}
	}

	// An online command runs in qs-jwt-net, found beside qs-jwt.
	r = exe("", "idp-config", "--issuer", "I", "--cert-file", certPath, "--minimal-output")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"issuer": "I"`)
	r = exe("", "setup", "cloud", "--nope")
	assert.Equal(t, 2, r.code, "qs-jwt-net's exit status")
	assert.Contains(t, r.stderr, `unknown flag "--nope"`)

	r = exe("", "frobnicate")
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, fmt.Sprintf("qs-jwt: unknown command %q; give one of %s (--help)\n", "frobnicate", commandNames()), r.stderr)
}

// TestBinaryWithoutCompanion: qs-jwt alone says where qs-jwt-net belongs,
// and a qs-jwt copied under qs-jwt-net's name fails at once instead of
// running itself over and over.
func TestBinaryWithoutCompanion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildCommand(t, dir, "qs-jwt", "")
	run := func() (int, string, string) {
		cmd := exec.Command(bin, "idp-config", "--issuer", "I", "--cert-file", certPath)
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%v", err)
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	code, stdout, stderr := run()
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "qs-jwt idp-config runs in the companion program qs-jwt-net")
	assert.Contains(t, stderr, "go install github.com/qsjwt/qsjwt/cmd/qs-jwt-net@latest")
	assert.Regexp(t, errLine, strings.TrimSpace(stderr))

	// A qs-jwt-net of another version runs, and warns.
	buildCommand(t, dir, "qs-jwt-net", "v0.0.1-old")
	cmd := exec.Command(bin, "idp-config", "--issuer", "I", "--cert-file", certPath, "--minimal-output")
	var stdout2, stderr2 bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout2, &stderr2
	require.NoError(t, cmd.Run(), stderr2.String())
	assert.Contains(t, stdout2.String(), `"issuer": "I"`)
	assert.Regexp(t, `^qs-jwt: warning: qs-jwt-net is v0\.0\.1-old go1\.\S+, but the qs-jwt that runs it is \S+ go1\.\S+; install both from the same release\n$`, stderr2.String())

	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qs-jwt-net"), data, 0o755))
	code, stdout, stderr = run()
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "is not qs-jwt-net but another build of qs-jwt")
}

// buildCommand builds cmd/<cmd> into dir, static, with version stamped when
// not empty, and returns its path; without a go command, or in -short, the
// test is skipped.
func buildCommand(t *testing.T, dir, cmd, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	args := []string{"build", "-o", filepath.Join(dir, cmd)}
	if version != "" {
		args = append(args, "-ldflags", "-X github.com/qsjwt/qsjwt/internal/cli.version="+version)
	}
	build := exec.Command(goBin, append(args, "../../cmd/"+cmd)...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return filepath.Join(dir, cmd)
}
