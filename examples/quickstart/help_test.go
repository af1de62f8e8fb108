package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelp: -h says what quickstart does and exits 0; an argument is
// refused with exit 2; no argument runs it.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out, errOut bytes.Buffer
		done, code := args([]string{arg}, &out, &errOut)
		if !done || code != 0 || !strings.Contains(out.String(), "Usage: go run ./examples/quickstart") {
			t.Errorf("%s: done %v, exit %d, %q", arg, done, code, out.String())
		}
	}
	var out, errOut bytes.Buffer
	if done, code := args([]string{"-x"}, &out, &errOut); !done || code != 2 || !strings.Contains(errOut.String(), "takes no arguments") {
		t.Errorf("-x: done %v, exit %d, %q", done, code, errOut.String())
	}
	if done, _ := args(nil, &out, &errOut); done {
		t.Error("no arguments: quickstart runs")
	}
}
