//go:build !unix

package cli

import "errors"

// execInPlace is not available here: runOnline runs a child process.
func execInPlace(path string, argv, env []string) error { return errors.ErrUnsupported }
