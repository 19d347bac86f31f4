package datadir

import (
	"io"
	"log/slog"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"
)

// LogConfig is how the gateway logs.
type LogConfig struct {
	Format string // "json" or "text"
	Level  string // debug, info, warn, error
	// File rotation under DATA_DIR/logs: a file is rotated at MaxSizeMB,
	// and at most MaxBackups rotated files younger than MaxAgeDays are kept.
	MaxSizeMB  int
	MaxBackups int
	MaxAgeDays int
}

// LogFile is the rotated log file under DATA_DIR/logs.
func (d Dir) LogFile(c LogConfig) *lumberjack.Logger {
	return &lumberjack.Logger{
		Filename:   d.Path(LogsDir, "diminuendo.log"),
		MaxSize:    max(c.MaxSizeMB, 1),
		MaxBackups: max(c.MaxBackups, 1),
		MaxAge:     max(c.MaxAgeDays, 1),
		Compress:   true,
	}
}

// NewLogger writes records in c.Format at c.Level to w.
func NewLogger(w io.Writer, c LogConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: ParseLevel(c.Level)}
	if strings.EqualFold(c.Format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// ParseLevel reads LOG_LEVEL (info when unknown; config validates it).
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
