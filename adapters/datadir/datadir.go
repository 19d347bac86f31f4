// Package datadir keeps the gateway's operational artifacts under DATA_DIR:
// rotated logs (logs/), warm-start caches (cache/) and, when enabled, debug
// dumps of frames (debug/). Nothing a user needs lives here: sessions and
// their events belong to the upstream services, so deleting the folder
// between runs costs only a cold start.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Dir is a prepared DATA_DIR.
type Dir struct {
	Root string
}

// Subfolders of DATA_DIR.
const (
	LogsDir  = "logs"
	CacheDir = "cache"
	DebugDir = "debug"
)

// Open creates root and its subfolders and proves root writable, so an
// unusable DATA_DIR stops startup with one line instead of failing later.
func Open(root string) (Dir, error) {
	if root == "" {
		return Dir{}, errors.New("DATA_DIR: empty; set it to a writable folder")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return Dir{}, fmt.Errorf("DATA_DIR: %q: %v", root, err)
	}
	for _, sub := range []string{LogsDir, CacheDir, DebugDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o750); err != nil {
			return Dir{}, fmt.Errorf("DATA_DIR: %s is not writable: %v", abs, cause(err))
		}
	}
	f, err := os.CreateTemp(abs, ".probe-*")
	if err != nil {
		return Dir{}, fmt.Errorf("DATA_DIR: %s is not writable: %v", abs, cause(err))
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return Dir{Root: abs}, nil
}

// Path joins elems under the root.
func (d Dir) Path(elem ...string) string {
	return filepath.Join(append([]string{d.Root}, elem...)...)
}

// cause drops the path an *os.PathError repeats.
func cause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
