package qsjwt

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestSigningImportsNoNetwork keeps the HTTP and TLS stacks out of every
// program that imports qsjwt: go list -deps of the package must hold none
// of net/http, net/http/httptrace and crypto/tls, nor anything of
// github.com/lestrrat-go (jwx's jwk package linked all of them through
// httprc; jwx is for tests only, in internal/engine). Their initialisation
// and size cost every run of a program that only signs a token. The
// failure names the package and the chain of imports that brings it in.
func TestSigningImportsNoNetwork(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH:", err)
	}
	const root = "github.com/qsjwt/qsjwt"
	cmd := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, root)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", root, err, msg)
	}
	imports := map[string][]string{}
	var pkgs []string
	for line := range strings.Lines(string(out)) {
		path, deps, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			t.Fatalf("go list printed %q", line)
		}
		pkgs = append(pkgs, path)
		imports[path] = strings.Fields(deps)
	}
	if !slices.Contains(pkgs, root) {
		t.Fatalf("go list -deps %s does not list the package itself:\n%s", root, out)
	}
	forbidden := func(p string) bool {
		switch p {
		case "net/http", "net/http/httptrace", "crypto/tls":
			return true
		}
		return strings.HasPrefix(p, "github.com/lestrrat-go/")
	}
	for _, p := range pkgs {
		if !forbidden(p) {
			continue
		}
		var importers []string
		for _, q := range pkgs {
			if slices.Contains(imports[q], p) {
				importers = append(importers, q)
			}
		}
		t.Errorf("%s links %s, imported by %s (one chain: %s)", root, p, strings.Join(importers, ", "), strings.Join(importChain(imports, root, p), " -> "))
	}
}

// importChain returns a shortest chain of imports from one package to
// another, both ends included.
func importChain(imports map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, q := range imports[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}
