//go:build unix

package cli

import "syscall"

// execInPlace replaces the process with path; it returns only on failure.
func execInPlace(path string, argv, env []string) error {
	return syscall.Exec(path, argv, env)
}
