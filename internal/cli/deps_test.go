package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestQSJWTLinksNoNetwork keeps out of the qs-jwt program what its commands
// do not use, since Go initialises every linked package on every start:
// the HTTP and TLS stacks, packages provision and session (they belong to
// qs-jwt-net, see Main), jwx, and regexp (see shapes.go). The failure names
// the packages that import the offender.
func TestQSJWTLinksNoNetwork(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/qsjwt/qsjwt/cmd/qs-jwt").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	imports := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		path, deps, _ := strings.Cut(strings.TrimSpace(line), ":")
		imports[path] = strings.Fields(deps)
	}
	if len(imports) < 50 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", len(imports), out)
	}
	for _, bad := range []string{"net/http", "crypto/tls", "regexp", "github.com/qsjwt/qsjwt/provision", "github.com/qsjwt/qsjwt/session", "github.com/lestrrat-go/jwx/v2/jwk"} {
		if _, ok := imports[bad]; !ok {
			continue
		}
		var by []string
		for p, deps := range imports {
			for _, d := range deps {
				if d == bad {
					by = append(by, p)
				}
			}
		}
		t.Errorf("qs-jwt links %s (imported by %s): every start of every command initialises it", bad, strings.Join(by, ", "))
	}
}
