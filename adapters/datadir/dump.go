package datadir

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// DumpConfig bounds the debug dumps: each channel's file is rotated at
// MaxSizeMB, and rotated files are kept MaxBackups deep and MaxAgeDays old.
type DumpConfig struct {
	Channels   []string // "podium", "ws"
	MaxSizeMB  int
	MaxBackups int
	MaxAgeDays int
}

// Dumps are the debug dump channels that are switched on; a nil *Dumps
// and a channel not switched on write nothing.
type Dumps struct {
	mu    sync.Mutex
	files map[string]*lumberjack.Logger
}

// DumpChannels are the channels DEBUG_DUMP may name.
var DumpChannels = []string{"podium", "ws"}

// Dumps opens the channels c names under DATA_DIR/debug.
func (d Dir) Dumps(c DumpConfig) (*Dumps, error) {
	out := &Dumps{files: map[string]*lumberjack.Logger{}}
	for _, ch := range c.Channels {
		ch = strings.TrimSpace(ch)
		if ch == "" {
			continue
		}
		if !validChannel(ch) {
			return nil, fmt.Errorf("DEBUG_DUMP: %q is not one of %s", ch, strings.Join(DumpChannels, ", "))
		}
		out.files[ch] = &lumberjack.Logger{
			Filename:   d.Path(DebugDir, ch+".jsonl"),
			MaxSize:    max(c.MaxSizeMB, 1),
			MaxBackups: max(c.MaxBackups, 1),
			MaxAge:     max(c.MaxAgeDays, 1),
		}
	}
	return out, nil
}

func validChannel(ch string) bool {
	for _, c := range DumpChannels {
		if c == ch {
			return true
		}
	}
	return false
}

// On reports whether channel is dumped.
func (d *Dumps) On(channel string) bool {
	return d != nil && d.files[channel] != nil
}

// Frame records one frame on channel: its direction ("in" to the gateway,
// "out" from it), whom it concerns, and the frame with secrets redacted.
func (d *Dumps) Frame(channel, dir, subject string, frame []byte) {
	if !d.On(channel) {
		return
	}
	rec := struct {
		Time    time.Time `json:"time"`
		Dir     string    `json:"dir"`
		Subject string    `json:"subject,omitempty"`
		Frame   string    `json:"frame"`
	}{time.Now().UTC(), dir, subject, Redact(string(frame))}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	b = append(b, '\n')
	d.mu.Lock()
	defer d.mu.Unlock()
	_, _ = d.files[channel].Write(b)
}

// Close closes every channel's file.
func (d *Dumps) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.files {
		_ = f.Close()
	}
	return nil
}

var (
	// A JSON member whose name says it holds a secret: its string value goes.
	secretMember = regexp.MustCompile(`(?i)("(?:[a-z_]*token|[a-z_]*secret[a-z_]*|password|authorization|api_?key|[a-z_]*_key|apikey|cookie|jwt|credentials?)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// Bearer credentials and bare JWTs anywhere else.
	bearer = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
	jwt    = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
)

// Redacted replaces every secret Redact removes.
const Redacted = "[REDACTED]"

// Redact removes tokens and secrets from a frame: the values of members
// named like secrets, bearer credentials and anything shaped like a JWT.
func Redact(s string) string {
	s = secretMember.ReplaceAllString(s, `$1"`+Redacted+`"`)
	s = bearer.ReplaceAllString(s, "Bearer "+Redacted)
	return jwt.ReplaceAllString(s, Redacted)
}

// Channel is one switched-on dump channel.
type Channel struct {
	d    *Dumps
	name string
}

// Channel returns the channel called name, or nil when it is off.
func (d *Dumps) Channel(name string) *Channel {
	if !d.On(name) {
		return nil
	}
	return &Channel{d: d, name: name}
}

// Frame records one frame (see Dumps.Frame).
func (c *Channel) Frame(dir, subject string, frame []byte) {
	if c != nil {
		c.d.Frame(c.name, dir, subject, frame)
	}
}
