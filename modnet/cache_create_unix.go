//go:build unix

package modnet

import (
	"io"
	"io/fs"
	"syscall"
)

// createFile creates the file name for writing, failing if it exists, as
// os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm) does, in one
// system call rather than six. os.OpenFile registers every file with the
// runtime's poller, which refuses regular files, and sets and clears
// O_NONBLOCK around that (four fcntl and one epoll_ctl): for the tens of
// thousands of files of a module graph, more system calls than creating
// and writing them.
func createFile(name string, perm fs.FileMode) (io.WriteCloser, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &fdFile{fd: fd, name: name}, nil
	}
}

// fdFile is a file written with plain system calls; see createFile.
type fdFile struct {
	fd   int
	name string
}

func (f *fdFile) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := syscall.Write(f.fd, p[written:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return written, &fs.PathError{Op: "write", Path: f.name, Err: err}
		}
		if n == 0 {
			return written, &fs.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
		written += n
	}
	return written, nil
}

func (f *fdFile) Close() error {
	if err := syscall.Close(f.fd); err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
