package cli

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestNoRegexpCompiledAtStart reads the package's source: no package-level
// variable may compile a regexp (that runs before main on every start; use
// lazyRegexp), and every lazyRegexp's expression must compile, since a typo
// would otherwise surface only on the error path that first uses it.
func TestNoRegexpCompiledAtStart(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	lazy := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != gotoken.VAR {
				continue
			}
			ast.Inspect(gd, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "regexp" {
							t.Errorf("%s: a package-level variable calls regexp.%s at start; declare a lazyRegexp", fset.Position(n.Pos()), sel.Sel.Name)
						}
					}
				case *ast.CompositeLit:
					if id, ok := n.Type.(*ast.Ident); ok && id.Name == "lazyRegexp" {
						lazy++
						for _, el := range n.Elts {
							kv, ok := el.(*ast.KeyValueExpr)
							if !ok || kv.Key.(*ast.Ident).Name != "expr" {
								continue
							}
							lit, ok := kv.Value.(*ast.BasicLit)
							if !ok {
								t.Errorf("%s: a lazyRegexp's expr is not a literal", fset.Position(kv.Pos()))
								continue
							}
							expr, err := strconv.Unquote(lit.Value)
							if err == nil {
								_, err = regexp.Compile(expr)
							}
							if err != nil {
								t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
							}
						}
					}
				}
				return true
			})
		}
	}
	if lazy == 0 {
		t.Error("found no lazyRegexp declarations: the test reads the wrong files")
	}
}

func TestLazyRegexp(t *testing.T) {
	re := lazyRegexp{expr: `^a+$`}
	if !re.MatchString("aaa") || re.MatchString("ab") {
		t.Error("lazyRegexp matches differently from its expression")
	}
	bad := lazyRegexp{expr: `(`}
	defer func() {
		if recover() == nil {
			t.Error("an invalid expression did not panic on first use")
		}
	}()
	bad.MatchString("x")
}

// TestLooksLikeTokenMatchesExpression holds the hand-written looksLikeToken
// to the expression it replaces, on chosen cases and on many random strings
// over the characters that matter.
func TestLooksLikeTokenMatchesExpression(t *testing.T) {
	re := regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	cases := []string{"", "eyJ", "eyJ.", "eyJ..", "eyJa.b.c", "xeyJa.b.c", " eyJa.b.c", "-eyJa.b", "a=eyJhbGc.e30.sig",
		"eyJ.x", "eyJa.b", "eyJa b.c", "token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "eyeyJ..", "/eyJ..", "_eyJ..", "eyJeyJ.."}
	for _, c := range cases {
		if got, want := looksLikeToken(c), re.MatchString(c); got != want {
			t.Errorf("looksLikeToken(%q) = %v, the expression says %v", c, got, want)
		}
	}
	const alphabet = "eyJ.-_aZ9 /+=\n"
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, 24)
	for range 200000 {
		b = b[:0]
		for range r.IntN(24) {
			if r.IntN(4) == 0 {
				b = append(b, "eyJ"...)
				continue
			}
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		if got, want := looksLikeToken(string(b)), re.Match(b); got != want {
			t.Fatalf("looksLikeToken(%q) = %v, the expression says %v", b, got, want)
		}
	}
}
