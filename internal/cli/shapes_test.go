package cli

import (
	"go/parser"
	gotoken "go/token"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shapes pairs each hand-written shape with the regular expression it
// stands for.
var shapes = []struct {
	name  string
	match func(string) bool
	re    string
}{
	{"flagLike", flagLike.MatchString, `^[A-Za-z][A-Za-z0-9-]{0,31}$`},
	{"echoable", echoable.MatchString, `^[A-Za-z0-9][A-Za-z0-9._:+-]{0,15}$`},
	{"varNameRE", varNameRE.MatchString, `^[A-Z_][A-Z0-9_]{0,63}$`},
	{"anyVarNameRE", anyVarNameRE.MatchString, `^[A-Za-z_][A-Za-z0-9_]*$`},
	{"commandLike", commandLike.MatchString, `^-{0,2}[a-z][a-z-]{0,15}$`},
	{"pathLike", pathLike.MatchString, `[/\\]|\.[A-Za-z0-9]{1,5}$`},
	{"base64Text", base64Text.MatchString, `^[A-Za-z0-9+/_=\s-]+$`},
	{"hexText", hexText.MatchString, `^\s*(?:[0-9a-fA-F]{2}[\s:]*)+$`},
}

// TestShapesMatchTheirRegexps holds every shape to its regular expression
// on hand-picked edge cases and on 200,000 random strings per shape, drawn
// from the characters the shapes care about (and a few they do not),
// around the length limits.
func TestShapesMatchTheirRegexps(t *testing.T) {
	edge := []string{"", "a", "A", "_", "-", "--", "---a", "--a", "-a-", "a-", "create-qseow", "QS_JWT_KEY", "qs_jwt_key", "9ABC",
		"key.pem", "a.bcdef", "a.bcdefg", ".pem", "x.", "dir/file", `c:\key`, "abc", "ab cd", "ab:cd:ef", " ab", "ab ", "a b",
		"AQAB", "AQAB==", "a+b/c_d-e=", "\t\n\f\r ", "\v", "é", "ab\x00", strings.Repeat("a", 16), strings.Repeat("a", 17),
		strings.Repeat("A", 64), strings.Repeat("A", 65), strings.Repeat("a", 32), strings.Repeat("a", 33), "a" + strings.Repeat("-", 15)}
	alphabet := "aAzZ09_-.:+/=\\ \t\n\f\r\vxXé\x00"
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		re := regexp.MustCompile(s.re)
		check := func(in string) {
			if got, want := s.match(in), re.MatchString(in); got != want {
				t.Errorf("%s(%q) = %v, its regexp %s says %v", s.name, in, got, s.re, want)
			}
		}
		for _, in := range edge {
			check(in)
		}
		for range 200_000 {
			n := rng.IntN(70)
			if rng.IntN(4) == 0 {
				n = rng.IntN(8)
			}
			var b strings.Builder
			for range n {
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
			check(b.String())
		}
	}
}

// TestNoRegexpLinked: package cli's code must not import regexp (see
// shapes.go); its tests may.
func TestNoRegexpLinked(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"regexp"` {
				t.Errorf("%s imports regexp: its Unicode tables are built on every start of qs-jwt; write the shape by hand in shapes.go", name)
			}
		}
	}
}
