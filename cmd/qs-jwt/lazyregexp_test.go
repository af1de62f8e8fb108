package main

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
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
