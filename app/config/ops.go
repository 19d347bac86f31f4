package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is an amount of memory written like GOMEMLIMIT: a number with
// an optional B, KiB, MiB, GiB or TiB suffix.
type ByteSize int64

// UnmarshalText reads "2GiB", "1600MiB" or a plain number of bytes.
func (b *ByteSize) UnmarshalText(t []byte) error {
	s := strings.TrimSpace(string(t))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return errors.New("want a positive size like 2GiB or 1600MiB")
	}
	*b = ByteSize(n * mult)
	return nil
}

// String writes the size in the largest unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if int64(b)%u.mult == 0 {
			return fmt.Sprintf("%d%s", int64(b)/u.mult, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", int64(b))
}

// LogFormatOrDefault is LOG_FORMAT, or text in dev mode and json otherwise.
func (c Config) LogFormatOrDefault() string {
	if c.LogFormat != "" {
		return strings.ToLower(c.LogFormat)
	}
	if c.DevMode {
		return "text"
	}
	return "json"
}

func (c Config) validateOps() error {
	switch strings.ToLower(c.LogFormat) {
	case "", "json", "text":
	default:
		return fmt.Errorf("LOG_FORMAT: %q is not json or text", c.LogFormat)
	}
	if c.LogFileMaxMB < 1 || c.LogFileBackups < 1 || c.LogFileMaxAgeDays < 1 {
		return errors.New("LOG_FILE_MAX_MB, LOG_FILE_BACKUPS and LOG_FILE_MAX_AGE_DAYS: must be at least 1")
	}
	for _, ch := range c.DebugDump {
		switch strings.TrimSpace(ch) {
		case "podium", "ws", "":
		default:
			return fmt.Errorf("DEBUG_DUMP: %q is not one of podium, ws", ch)
		}
	}
	if c.DebugDumpMaxMB < 1 {
		return errors.New("DEBUG_DUMP_MAX_MB: must be at least 1")
	}
	if c.DataDir == "" {
		return errors.New("DATA_DIR: must not be empty")
	}
	return nil
}
