//go:build unix

package cli

import (
	"errors"
	"os"
	"syscall"
)

// openInput opens a file a flag names for reading. os.Open registers every
// file with the runtime's network poller, and the first registration
// creates the poller (an epoll instance, an eventfd): about 0.03 ms of a
// 3.5 ms create command, for files that are read once, to the end, and
// never wait. A file opened this way is read with plain blocking reads.
func openInput(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
