package qsjwt_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeBlock is one ```go block of README.md and the README line of its
// first line of code.
type readmeBlock struct {
	line int
	code string
}

// readmeGoBlocks returns every ```go block of a Markdown text.
func readmeGoBlocks(md string) []readmeBlock {
	var out []readmeBlock
	var cur *readmeBlock
	var code strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &readmeBlock{line: n + 1}
			code.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = code.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(line + "\n")
		}
	}
	return out
}

// readmeFreeVars declares what the README's Go blocks use without declaring:
// the values a program around each snippet would already hold, typed as the
// README means them. A block that uses a name not listed here fails with
// "undefined: name"; a name listed here that no block uses fails too.
const readmeFreeVars = `
var (
	ctx       context.Context
	req       *http.Request
	signer    qsjwt.Signer
	pemBytes  []byte        // a certificate in PEM
	token     string        // a token to check
	issuer    string        // the Qlik Cloud identity provider's issuer
	kid       string        // and its key ID
	user      qsjwt.CloudUser
	appID     string
	tenantURL string
	cloud     *qsjwt.Cloud
	mySite    site          // the site's own sign-in
	mux       *http.ServeMux
	clientID  string        // a Qlik Cloud OAuth client's ID
)

type site struct{}

func (site) UserOf(*http.Request) (qsjwt.CloudUser, error) { return qsjwt.CloudUser{}, nil }
`

// readmeImports maps the package names README blocks may use to their
// import paths; only those a block uses are imported.
var readmeImports = map[string]string{
	"qsjwt":     "github.com/qsjwt/qsjwt",
	"session":   "github.com/qsjwt/qsjwt/session",
	"provision": "github.com/qsjwt/qsjwt/provision",
	"qliktest":  "github.com/qsjwt/qsjwt/qliktest",
	"context":   "context",
	"errors":    "errors",
	"fmt":       "fmt",
	"http":      "net/http",
	"json":      "encoding/json",
	"log":       "log",
	"os":        "os",
	"time":      "time",
}

// readmeSource is a Go file that holds each block as the body of its own
// function, func blockN() error, with line directives that point the type
// checker's errors at README.md's lines.
func readmeSource(blocks []readmeBlock) string {
	all := readmeFreeVars
	for _, b := range blocks {
		all += b.code
	}
	var paths []string
	for name, path := range readmeImports {
		if regexp.MustCompile(`\b` + name + `\.`).MatchString(all) {
			paths = append(paths, path)
		}
	}
	sort.Strings(paths)
	var src strings.Builder
	src.WriteString("package readme\n\nimport (\n")
	for _, p := range paths {
		fmt.Fprintf(&src, "\t%q\n", p)
	}
	src.WriteString(")\n" + readmeFreeVars)
	for i, b := range blocks {
		fmt.Fprintf(&src, "\nfunc block%d() error {\n//line README.md:%d\n%s\nreturn nil\n}\n", i+1, b.line, b.code)
	}
	return src.String()
}

// readmeTypeCheck type-checks src against the packages as built now, and
// returns its hard errors ("declared and not used" and unused imports are
// soft, and left out) and the package-level names no block uses.
func readmeTypeCheck(t *testing.T, lookup importer.Lookup, src string) (errs []string, unused []string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "readme.go", src, parser.SkipObjectResolution)
	if err != nil {
		return []string{err.Error()}, nil
	}
	conf := types.Config{
		Importer: importer.ForCompiler(fset, "gc", lookup),
		Error: func(err error) {
			if te, ok := err.(types.Error); !ok || !te.Soft {
				errs = append(errs, err.Error())
			}
		},
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	pkg, _ := conf.Check("readme", fset, []*ast.File{f}, info)
	used := map[types.Object]bool{}
	for _, obj := range info.Uses {
		used[obj] = true
	}
	if pkg != nil {
		for _, name := range pkg.Scope().Names() {
			if v, ok := pkg.Scope().Lookup(name).(*types.Var); ok && !used[v] {
				unused = append(unused, name)
			}
		}
	}
	return errs, unused
}

// goListExport returns a lookup of the export data the go command builds
// for paths and their dependencies.
func goListExport(t *testing.T, paths []string) importer.Lookup {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, paths...)
	out, err := exec.Command(goCmd, args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("go list -export: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, _ := strings.Cut(line, "=")
		exports[path] = file
	}
	return func(path string) (io.ReadCloser, error) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	}
}

// TestREADMEGoBlocksCompile: every ```go block of README.md type-checks
// against the packages as they are, each block as the body of a function
// returning error, with the names the README leaves to the reader declared in
// readmeFreeVars. A block that calls a removed or renamed API fails, naming
// the README line.
func TestREADMEGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	md, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := readmeGoBlocks(string(md))
	require.Len(t, blocks, strings.Count(string(md), "```go\n"), "every ```go block is found")
	require.NotEmpty(t, blocks)

	paths := make([]string, 0, len(readmeImports))
	for _, p := range readmeImports {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	lookup := goListExport(t, paths)

	errs, unused := readmeTypeCheck(t, lookup, readmeSource(blocks))
	assert.Empty(t, errs, "README Go blocks that do not compile")
	assert.Empty(t, unused, "names in readmeFreeVars that no README block uses")

	// The check itself: a block with a removed option fails, naming it and
	// its README line; a block whose only fault is an unused name passes.
	removed := []readmeBlock{{line: 7, code: "q, err := qsjwt.NewQSEoW(signer, qsjwt.WithSigner(signer))\n_ = q\nreturn err\n"}}
	errs, _ = readmeTypeCheck(t, lookup, readmeSource(removed))
	if assert.Len(t, errs, 1) {
		assert.Contains(t, errs[0], "README.md:7:")
		assert.Contains(t, errs[0], "WithSigner")
	}
	errs, _ = readmeTypeCheck(t, lookup, readmeSource([]readmeBlock{{line: 1, code: "tok, err := qsjwt.Decode(token)\n"}}))
	assert.Empty(t, errs)
}

func TestReadmeGoBlocksParser(t *testing.T) {
	md := "text\n```go\na := 1\n```\n```sh\nls\n```\n\n```go\nb := 2\nc := 3\n```\n"
	assert.Equal(t, []readmeBlock{{line: 3, code: "a := 1\n"}, {line: 10, code: "b := 2\nc := 3\n"}}, readmeGoBlocks(md))
}
