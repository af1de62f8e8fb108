//go:build windows

package cli

import (
	"context"
	"os/exec"
	"syscall"
)

// shellCommand runs line with cmd /C, passing it as cmd.exe reads it.
func shellCommand(ctx context.Context, line string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "cmd.exe")
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: `cmd.exe /S /C "` + line + `"`}
	return cmd
}
