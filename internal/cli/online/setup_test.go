package online

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// Setup and doctor run through the CLI against the qliktest emulators, over
// TLS on loopback, with the emulators' admin APIs keeping what was created.

const testAPIKey = "test-only-api-key-5b0f3c7e9a1d4c2b8e6f"

func init() { addSecret(testAPIKey) }

type setupResult struct {
	DryRun  bool
	Changes int
	Steps   []struct{ Action, Object, Name, Detail string }
}

func setupJSON(t *testing.T, r runResult) setupResult {
	t.Helper()
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	var s setupResult
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	require.NoError(t, dec.Decode(&s), "stdout is one JSON object")
	assert.False(t, dec.More())
	return s
}

type doctorResult struct {
	OK     bool
	Checks []struct {
		Name, Cause, Detail, Fix string
		OK, Skipped              bool
	}
}

func doctorJSON(t *testing.T, r runResult) doctorResult {
	t.Helper()
	var d doctorResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &d), "stdout is one JSON object: %s / %s", r.stdout, r.stderr)
	assert.Equal(t, d.OK, r.code == 0, "exit 0 exactly when every check passed")
	if !d.OK {
		assert.Equal(t, exitFailed, r.code)
	}
	return d
}

// failedCause returns the cause of the first failed check.
func (d doctorResult) failedCause() (check, cause string) {
	for _, c := range d.Checks {
		if !c.OK && !c.Skipped {
			return c.Name, c.Cause
		}
	}
	return "", ""
}

// tenant is an emulated Qlik Cloud tenant with its admin API on and the
// flags that reach it.
type tenant struct {
	*qliktest.Cloud
	ca  string
	env map[string]string
}

func newTenant(t *testing.T, now time.Time) *tenant {
	c := qliktest.NewCloud(qliktest.CloudConfig{APIKey: testAPIKey, Now: func() time.Time { return now }})
	t.Cleanup(c.Close)
	return &tenant{c, writeFile(t, "ca.pem", c.ServerCertificatePEM()), map[string]string{"QLIK_API_KEY": testAPIKey}}
}

func (tn *tenant) setup(t *testing.T, args ...string) runResult {
	return qsAny(t, tn.env, append([]string{"setup", "cloud", "--tenant", tn.URL, "--ca-file", tn.ca, "--json", "--issuer", "qs-jwt.test"}, args...)...)
}

func (tn *tenant) doctor(t *testing.T, args ...string) doctorResult {
	return doctorJSON(t, qsAny(t, nil, append([]string{"doctor", "cloud", "--tenant", tn.URL, "--ca-file", tn.ca, "--json",
		"--sub", "anna", "--username", "Anna", "--useremail", "anna@example.com"}, args...)...))
}

func TestSetupCloudThenDoctorThenLogin(t *testing.T) {
	tn := newTenant(t, fixedNow)
	s := setupJSON(t, tn.setup(t, "--keyid", "k1", "--cert-file", certPath, "--auto-create-groups", "--auto-assign-licenses", "analyzer",
		"--web-integration", "mashup", "--origin", "https://mashup.example.com", "--csp-origin", "https://mashup.example.com"))
	assert.Equal(t, 5, s.Changes)
	assert.Equal(t, "create", s.Steps[0].Action)
	assert.Equal(t, "identity provider", s.Steps[0].Object)
	assert.Equal(t, 5, tn.AdminChanges())

	again := setupJSON(t, tn.setup(t, "--keyid", "k1", "--cert-file", certPath, "--auto-create-groups", "--auto-assign-licenses", "analyzer",
		"--web-integration", "mashup", "--origin", "https://mashup.example.com", "--csp-origin", "https://mashup.example.com"))
	assert.Zero(t, again.Changes, "a second setup changes nothing")
	assert.Equal(t, 5, tn.AdminChanges())

	d := tn.doctor(t, "--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", keyPath, "--useremail-verified", "--groups", "Sales")
	require.True(t, d.OK, "%+v", d.Checks)
	var names []string
	for _, c := range d.Checks {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"token", "login", "session", "email", "groups", "csrf-token", "websocket"}, names)

	// The token create-qscloud makes logs in too.
	r := qsAny(t, nil, "create-qscloud", "--sub", "ben", "--username", "Ben", "--useremail", "ben@example.com",
		"--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", keyPath)
	require.Equal(t, 0, r.code, r.stderr)
	req, _ := http.NewRequest(http.MethodPost, tn.URL+"/login/jwt-session", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(r.stdout))
	resp, err := tn.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The human checklist.
	r = qsAny(t, nil, "doctor", "cloud", "--tenant", tn.URL, "--ca-file", tn.ca, "--sub", "anna", "--username", "Anna",
		"--useremail", "anna@example.com", "--useremail-verified", "--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", keyPath)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "[ok]   websocket")
}

func TestSetupCloudDryRunChangesNothing(t *testing.T) {
	tn := newTenant(t, fixedNow)
	r := qsAny(t, tn.env, "setup", "cloud", "--tenant", tn.URL, "--ca-file", tn.ca, "--issuer", "qs-jwt.test",
		"--keyid", "k1", "--cert-file", certPath, "--auto-create-groups", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "would create")
	assert.Contains(t, r.stdout, "would update")
	assert.Zero(t, tn.AdminChanges())
	_, cause := tn.doctor(t, "--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", keyPath, "--useremail-verified").failedCause()
	assert.Equal(t, "unknown-kid", cause, "a token for an identity provider never set up is refused")
}

func TestSetupCloudRotation(t *testing.T) {
	tn := newTenant(t, fixedNow)
	_, prefix := keygen(t, "--bits", "2048")
	newKey, newCert := prefix+"privatekey.pem", prefix+"publickey.cer"
	setupJSON(t, tn.setup(t, "--keyid", "old", "--cert-file", certPath))

	r := tn.setup(t, "--keyid", "new", "--cert-file", newCert)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(--rotate)", "a second key for the issuer needs --rotate")

	s := setupJSON(t, tn.setup(t, "--keyid", "new", "--cert-file", newCert, "--rotate"))
	require.Equal(t, 1, s.Changes)
	assert.Contains(t, s.Steps[0].Detail, "rotation")
	for _, k := range [][2]string{{"old", keyPath}, {"new", newKey}} {
		assert.True(t, tn.doctor(t, "--issuer", "qs-jwt.test", "--keyid", k[0], "--cert-privatekey-file", k[1], "--useremail-verified").OK, "both keys log in during the switch")
	}

	r = tn.setup(t, "--keyid", "new", "--cert-file", certPath)
	assert.Equal(t, exitFailed, r.code, "the same key ID with another certificate is refused")
	assert.Contains(t, r.stderr, "another certificate")

	s = setupJSON(t, tn.setup(t, "--keyid", "new", "--cert-file", newCert, "--retire-old", "old"))
	require.Equal(t, 1, s.Changes)
	assert.Equal(t, "delete", s.Steps[1].Action)
	_, cause := tn.doctor(t, "--issuer", "qs-jwt.test", "--keyid", "old", "--cert-privatekey-file", keyPath, "--useremail-verified").failedCause()
	assert.Equal(t, "unknown-kid", cause)
	assert.True(t, tn.doctor(t, "--issuer", "qs-jwt.test", "--keyid", "new", "--cert-privatekey-file", newKey, "--useremail-verified").OK)
	assert.Zero(t, setupJSON(t, tn.setup(t, "--keyid", "new", "--cert-file", newCert, "--retire-old", "old")).Changes, "retiring twice changes nothing")
}

func TestDoctorCloudNamesEachFailure(t *testing.T) {
	tn := newTenant(t, fixedNow)
	setupJSON(t, tn.setup(t, "--keyid", "k1", "--cert-file", certPath))
	_, prefix := keygen(t, "--bits", "2048")
	skewed := newTenant(t, fixedNow.Add(2*time.Hour))
	setupJSON(t, skewed.setup(t, "--keyid", "k1", "--cert-file", certPath))

	base := []string{"--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", keyPath, "--useremail-verified"}
	tests := []struct {
		name       string
		tn         *tenant
		args       []string
		check, why string
	}{
		{"unknown kid", tn, []string{"--issuer", "qs-jwt.test", "--keyid", "k2", "--cert-privatekey-file", keyPath}, "login", "unknown-kid"},
		{"issuer mismatch", tn, []string{"--issuer", "other", "--keyid", "k1", "--cert-privatekey-file", keyPath}, "login", "issuer-mismatch"},
		{"another key", tn, []string{"--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", prefix + "privatekey.pem"}, "login", "wrong-key"},
		{"clock skew", skewed, base, "login", "clock-skew"},
		{"e-mail hidden", tn, []string{"--issuer", "qs-jwt.test", "--keyid", "k1", "--cert-privatekey-file", keyPath}, "email", "email-hidden"},
		{"groups without group creation", tn, append(base, "--groups", "Sales"), "groups", "groups-missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.tn.doctor(t, tc.args...)
			assert.False(t, d.OK)
			check, cause := d.failedCause()
			assert.Equal(t, tc.check, check)
			assert.Equal(t, tc.why, cause)
			for _, c := range d.Checks {
				if !c.OK && !c.Skipped {
					assert.NotEmpty(t, c.Fix, "every failure names a fix")
				}
			}
		})
	}
}

func TestSetupCloudSecretsStayOut(t *testing.T) {
	tn := newTenant(t, fixedNow)
	r := qsAny(t, tn.env, "setup", "cloud", "--tenant", tn.URL, "--api-key", testAPIKey, "--issuer", "I", "--cert-file", certPath)
	assert.Equal(t, exitUsage, r.code, "there is no flag for the key itself")
	r = qsAny(t, map[string]string{"QLIK_API_KEY": testAPIKey + "x"}, "setup", "cloud", "--tenant", tn.URL, "--ca-file", tn.ca,
		"--issuer", "I", "--cert-file", certPath)
	assert.Equal(t, exitFailed, r.code, "a wrong key is refused")
	assert.Contains(t, r.stderr, "401")
	r = qsAny(t, nil, "setup", "cloud", "--tenant", tn.URL, "--issuer", "I", "--cert-file", certPath)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "QLIK_API_KEY is empty or not set")
	r = tn.setup(t, "--keyid", "k", "--cert-file", certPath, "--web-integration", "w", "--origin", "https://*.example.com")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "no wildcards")
	assert.Contains(t, r.stderr, "(--origin)")
}
