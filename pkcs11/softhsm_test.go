package pkcs11

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ck "github.com/miekg/pkcs11"
	"github.com/stretchr/testify/require"
)

// The tests run against a real SoftHSM2 token made for this run in a
// temporary directory (SOFTHSM2_CONF), with keys generated in it by OpenSC's
// pkcs11-tool, an implementation independent of this package.

// softHSMModules are where Debian and others install SoftHSM2;
// QSJWT_SOFTHSM2_MODULE names another.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

const tokenLabel = "qsjwt-test"

// testHSM is the token of this run.
type testHSM struct {
	module  string
	dir     string
	pin     string // a fresh random PIN, a real secret for the no-echo checks
	pinFile string
}

var (
	hsmSetup   *testHSM
	hsmSkip    string // why the tests skip: libsofthsm2 is not installed
	hsmFailure error  // SoftHSM2 is there but the token could not be made
)

func TestMain(m *testing.M) {
	hsmSetup, hsmSkip, hsmFailure = setUpSoftHSM()
	if hsmSkip != "" {
		if os.Getenv("CI") == "true" {
			// .ci/run installs SoftHSM2: missing there, it is a failure.
			hsmFailure, hsmSkip = fmt.Errorf("CI=true but %s", hsmSkip), ""
		} else {
			fmt.Fprintln(os.Stderr, hsmSkip)
		}
	}
	code := m.Run()
	if hsmSetup != nil {
		os.RemoveAll(hsmSetup.dir)
	}
	os.Exit(code)
}

// hsm returns the token of this run; it skips the test, saying why, only
// when libsofthsm2 is not installed, and fails it when the token could not
// be made.
func hsm(t *testing.T) *testHSM {
	t.Helper()
	if hsmSkip != "" {
		t.Skip(hsmSkip)
	}
	require.NoError(t, hsmFailure, "setting up the SoftHSM2 token")
	return hsmSetup
}

func setUpSoftHSM() (*testHSM, string, error) {
	module := os.Getenv("QSJWT_SOFTHSM2_MODULE")
	if module == "" {
		for _, m := range softHSMModules {
			if _, err := os.Stat(m); err == nil {
				module = m
				break
			}
		}
	}
	if module == "" {
		return nil, "SKIP: libsofthsm2.so not found (looked in " + strings.Join(softHSMModules, ", ") +
			"; set QSJWT_SOFTHSM2_MODULE): install it with `apt-get install -y softhsm2 opensc` to run the PKCS #11 tests", nil
	}
	dir, err := os.MkdirTemp("", "qsjwt-softhsm-")
	if err != nil {
		return nil, "", err
	}
	h := &testHSM{module: module, dir: dir}
	var b [8]byte
	_, _ = rand.Read(b[:])
	h.pin = "qs" + hex.EncodeToString(b[:])
	h.pinFile = filepath.Join(dir, "pin")
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		return h, "", err
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return h, "", err
	}
	if err := os.WriteFile(h.pinFile, []byte(h.pin+"\n"), 0o600); err != nil {
		return h, "", err
	}
	// Set before the module is first initialised in this process.
	os.Setenv("SOFTHSM2_CONF", conf)
	if _, err := run("softhsm2-util", "--init-token", "--free", "--label", tokenLabel, "--so-pin", "so-"+h.pin, "--pin", h.pin); err != nil {
		return h, "", err
	}
	keys := [][]string{
		{"--key-type", "rsa:2048", "--label", "rsa", "--id", "01"},
		{"--key-type", "EC:prime256v1", "--label", "ec", "--id", "02"},
		{"--key-type", "rsa:2048", "--label", "restricted", "--id", "03", "--allowed-mechanisms", "SHA256-RSA-PKCS,SHA384-RSA-PKCS,SHA512-RSA-PKCS"},
		{"--key-type", "rsa:1024", "--label", "small", "--id", "04"},
		{"--key-type", "rsa:2048", "--label", "swap", "--id", "05"},
	}
	for _, k := range keys {
		if err := h.tool(append([]string{"--keypairgen", "--usage-sign"}, k...)...); err != nil {
			return h, "", err
		}
	}
	return h, "", nil
}

// run runs a tool and returns its output; a missing tool is an error that
// says how to install it.
func run(name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("%s is not installed (apt-get install -y softhsm2 opensc): %w", name, err)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", name, args[0], err, out)
	}
	return out, nil
}

// tool runs pkcs11-tool logged in to the test token.
func (h *testHSM) tool(args ...string) error {
	_, err := run("pkcs11-tool", append([]string{"--module", h.module, "--token-label", tokenLabel, "--login", "--pin", h.pin}, args...)...)
	return err
}

// uri names a key of the test token, with the PIN from the pin file.
func (h *testHSM) uri(label string) string {
	return "pkcs11:token=" + tokenLabel + ";object=" + label + "?module-path=" + h.module + "&pin-source=" + h.pinFile
}

// exportedPublic reads a key's public half with pkcs11-tool, independently
// of this package.
func (h *testHSM) exportedPublic(t *testing.T, id string) *rsa.PublicKey {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pub.der")
	require.NoError(t, h.tool("--read-object", "--type", "pubkey", "--id", id, "--output-file", out))
	der, err := os.ReadFile(out)
	require.NoError(t, err)
	pub, err := x509.ParsePKIXPublicKey(der)
	require.NoError(t, err)
	return pub.(*rsa.PublicKey)
}

// otherApp is a second PKCS #11 context on the same library in this process,
// as another part of the application (or the HSM's own restart) would act:
// what it does to the library's sessions and login the Key must survive.
func (h *testHSM) otherApp(t *testing.T) *ck.Ctx {
	t.Helper()
	c := ck.New(h.module)
	require.NotNil(t, c)
	t.Cleanup(c.Destroy)
	if err := c.Initialize(); err != nil {
		require.ErrorIs(t, err, ck.Error(ck.CKR_CRYPTOKI_ALREADY_INITIALIZED))
	}
	return c
}

// slot returns the test token's slot.
func (h *testHSM) slot(t *testing.T, c *ck.Ctx) uint {
	t.Helper()
	slots, err := c.GetSlotList(true)
	require.NoError(t, err)
	for _, s := range slots {
		info, err := c.GetTokenInfo(s)
		require.NoError(t, err)
		if strings.TrimRight(info.Label, " ") == tokenLabel {
			return s
		}
	}
	t.Fatal("test token not found")
	return 0
}

// verifyCompact checks a compact JWS with crypto/rsa over the exact bytes
// received and returns its payload.
func verifyCompact(t *testing.T, raw string, pub *rsa.PublicKey, hash crypto.Hash) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	h := hash.New()
	h.Write([]byte(parts[0] + "." + parts[1]))
	require.NoError(t, rsa.VerifyPKCS1v15(pub, hash, h.Sum(nil), sig), "signature checked with crypto/rsa")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	return payload
}
