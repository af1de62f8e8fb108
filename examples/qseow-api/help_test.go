package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestHelp: -h and -help print the flags and exit 0; a flag that does not
// exist exits 1.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{arg}, &out)
		if code := exitCode(err); code != 0 {
			t.Errorf("%s: exit %d (%v), want 0", arg, code, err)
		}
		if !strings.Contains(out.String(), "-key-file") {
			t.Errorf("%s: the flags are not printed: %q", arg, out.String())
		}
	}
	if code := exitCode(run(context.Background(), []string{"-no-such-flag"}, io.Discard)); code != 1 {
		t.Errorf("an unknown flag: exit %d, want 1", code)
	}
}
