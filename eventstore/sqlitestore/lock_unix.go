//go:build unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lock takes the store's file for this process alone: the writer caches
// each stream's head, so a second process appending to the same file
// would write a stream version twice.
func lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	// A lock just given back may still be held for an instant by a child
	// this process forked before it was let go (the descriptor closes only
	// when the child execs): try for a second before calling it taken.
	for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%s is in use by another servicehall process; stop it first (事件存储正被另一进程使用)", path)
			}
			return nil, err
		}
	}
}
