package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// MaxCacheBytes bounds one cache file: a larger file is never written, and
// one found on disk is treated as corrupt.
const MaxCacheBytes = 4 << 20

var cacheName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Cache is a folder of small JSON snapshots, one per name, each written
// whole (a temporary file renamed over the old one), so a crash mid-write
// leaves the previous snapshot or none, never half of one.
type Cache struct {
	dir string
}

// Cache is DATA_DIR/cache.
func (d Dir) Cache() *Cache { return &Cache{dir: d.Path(CacheDir)} }

type envelope struct {
	Format  int             `json:"format"`
	SavedAt time.Time       `json:"savedAt"`
	Data    json.RawMessage `json:"data"`
}

// cacheFormat changes when a snapshot's layout does; an older file is
// rebuilt rather than misread.
const cacheFormat = 1

// Load reads the snapshot called name into v. It reports false when there
// is none, and removes a snapshot that is corrupt, too large or of another
// format, so the next Store rebuilds it.
func (c *Cache) Load(name string, v any) (time.Time, bool) {
	if c == nil || !cacheName.MatchString(name) {
		return time.Time{}, false
	}
	p := filepath.Join(c.dir, name+".json")
	f, err := os.Open(p)
	if err != nil {
		return time.Time{}, false
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxCacheBytes+1))
	_ = f.Close()
	var env envelope
	if err != nil || len(b) > MaxCacheBytes || json.Unmarshal(b, &env) != nil || env.Format != cacheFormat || json.Unmarshal(env.Data, v) != nil {
		_ = os.Remove(p)
		return time.Time{}, false
	}
	return env.SavedAt, true
}

// Store writes v as the snapshot called name.
func (c *Cache) Store(name string, v any) error {
	if c == nil {
		return nil
	}
	if !cacheName.MatchString(name) {
		return fmt.Errorf("cache: bad name %q", name)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, err := json.Marshal(envelope{Format: cacheFormat, SavedAt: time.Now().UTC(), Data: data})
	if err != nil {
		return err
	}
	if len(b) > MaxCacheBytes {
		return errors.New("cache: snapshot " + name + " is over the size bound; not written")
	}
	if err := os.MkdirAll(c.dir, 0o750); err != nil { // DATA_DIR may have been wiped while running
		return err
	}
	tmp, err := os.CreateTemp(c.dir, "."+name+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(c.dir, name+".json"))
}
