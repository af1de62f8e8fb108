package cli

// This file runs the online commands (setup, doctor, oauth-token and
// idp-config) of qs-jwt in the qs-jwt-net program.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// OnlineProgram is the program that holds the online commands, installed
// beside qs-jwt.
const OnlineProgram = "qs-jwt-net"

// onlineGuard is set in the environment of the qs-jwt-net that qs-jwt
// runs, to qs-jwt's version line: a qs-jwt-net that is in fact qs-jwt (a
// copy or a link under that name) fails at once instead of running itself
// forever, and a qs-jwt-net of another version warns.
const onlineGuard = "QS_JWT_ONLINE_RUN"

// exitStatus is the exit code of a qs-jwt-net that ran: it has printed its
// own output and errors, so Main returns the code and prints nothing.
type exitStatus int

func (s exitStatus) Error() string {
	return fmt.Sprintf("%s exited with status %d", OnlineProgram, int(s))
}

// runOnline returns the Run of an online command in qs-jwt (Main without
// online commands): it runs qs-jwt-net with the same command and arguments,
// standard streams and environment, and exits with its status. qs-jwt-net
// is the file of that name (qs-jwt-net.exe on Windows) beside the running
// program, after symbolic links, or else the first on PATH. On Unix, when
// the streams are the process's own, qs-jwt-net replaces the process
// (execve), so that signals and the exit status are its own.
func runOnline(name string) func(e *Env, args []string) error {
	return func(e *Env, args []string) error {
		if e.Getenv(onlineGuard) != "" {
			return Failf("--help", "the %s program found for %q is not qs-jwt-net but another build of qs-jwt; install qs-jwt-net from the same release as qs-jwt", OnlineProgram, name)
		}
		exe, _ := os.Executable() // "" when unknown
		path, err := findOnline(exe)
		if err != nil {
			self := exe
			if self == "" {
				self = "qs-jwt"
			}
			return Failf("--help", "qs-jwt %s runs in the companion program %s (kept apart so that creating a token loads no HTTP client), which is neither beside %s nor on PATH; install it beside qs-jwt: go install github.com/qsjwt/qsjwt/cmd/qs-jwt-net@latest (from a checkout: go install ./cmd/qs-jwt-net), or take both from the release archive", name, OnlineProgram, self)
		}
		argv := append([]string{path, name}, args...)
		env := append(os.Environ(), onlineGuard+"="+versionLine())
		if e.Stdin == os.Stdin && e.Stdout == os.Stdout && e.Stderr == os.Stderr {
			if err := execInPlace(path, argv, env); err != nil && !errors.Is(err, errors.ErrUnsupported) {
				return Failf("--help", "cannot run %s: %v", path, err)
			}
		}
		cmd := exec.Command(path, argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = e.Stdin, e.Stdout, e.Stderr, env
		err = cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &exit) && exit.ExitCode() > 0:
			return exitStatus(exit.ExitCode())
		}
		return Failf("--help", "cannot run %s: %v", path, err)
	}
}

// findOnline finds qs-jwt-net beside exe, the running program's path (""
// when unknown), or on PATH.
func findOnline(exe string) (string, error) {
	file := OnlineProgram
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if exe != "" {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		beside := filepath.Join(filepath.Dir(exe), file)
		if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() {
			return beside, nil
		}
	}
	return exec.LookPath(OnlineProgram)
}
