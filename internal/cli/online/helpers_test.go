package online

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qsjwt/qsjwt/internal/cli"
	"github.com/qsjwt/qsjwt/internal/cli/clitest"
	"github.com/stretchr/testify/assert"
)

// The online commands' tests run them in-process through cli.Main with
// Commands(), as qs-jwt-net does. The shared helpers are in clitest; the
// thin wrappers below (qs, qsArgs, qsAny, runFailCases, keygen) mirror
// those of package cli's tests, whose runResult they return.

func TestMain(m *testing.M) {
	cli.Clock = func() time.Time { return fixedNow } // set once, before any test runs
	if err := clitest.AddFixtureSecrets(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// Exit codes of the command line.
const (
	exitFailed = 1
	exitUsage  = 2
)

var (
	fixedNow        = clitest.FixedNow
	fixture         = clitest.Fixture
	readFixture     = clitest.ReadFixture
	addSecret       = clitest.AddSecret
	assertNoSecrets = clitest.AssertNoSecrets
	privateBlocks   = clitest.PrivateBlocks
	certKey         = clitest.CertKey
	thumbprint      = clitest.Thumbprint
	writeFile       = clitest.WriteFile
	keyPath         = fixture("test-only-rsa2048-pkcs8.pem")
	certPath        = fixture("test-only-rsa2048.cer")
	ecKeyPath       = fixture("test-only-ec-p384-pkcs8.pem")
)

// qsNet is qs-jwt-net's main.
func qsNet(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return cli.Main(args, stdin, stdout, stderr, getenv, Commands())
}

type runResult struct {
	code           int
	stdout, stderr string
}

type runOpts struct {
	stdin string
	env   map[string]string
}

func qs(t testing.TB, o runOpts, args ...string) runResult {
	t.Helper()
	code, stdout, stderr := clitest.Run(t, qsNet, o.stdin, o.env, args...)
	return runResult{code, stdout, stderr}
}

func qsArgs(t testing.TB, args ...string) runResult { t.Helper(); return qs(t, runOpts{}, args...) }

func qsAny(t testing.TB, env map[string]string, args ...string) runResult {
	t.Helper()
	code, stdout, stderr := clitest.RunAny(t, qsNet, env, args...)
	return runResult{code, stdout, stderr}
}

type failCase struct {
	name string
	opts runOpts
	args []string
	code int
	msg  string // a part of stderr
	flag string // the flag at the end of the error line
}

func runFailCases(t *testing.T, base []string, tests []failCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := qs(t, tc.opts, append(append([]string{}, base...), tc.args...)...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tc.msg)
			assert.Contains(t, r.stderr, "("+tc.flag+")\n")
		})
	}
}

// keygen runs keygen into a temporary directory and returns the file prefix.
func keygen(t *testing.T, args ...string) (runResult, string) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "qlik-")
	r := qsArgs(t, append([]string{"keygen", "--cert-file-prefix", prefix}, args...)...)
	if b, err := os.ReadFile(prefix + "privatekey.pem"); err == nil {
		addSecret(string(b))
		assertNoSecrets(t, r.stdout, r.stderr)
	}
	return r, prefix
}
