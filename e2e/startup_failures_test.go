package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runToExit runs the gateway binary with env until it exits (bounded) and
// returns its exit code, stdout and stderr.
func runToExit(t *testing.T, env ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gatewayBinary(t))
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DEV_MODE=true", "HOST=127.0.0.1"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("running the gateway: %v", err)
	return 0, "", ""
}

// A port already in use is one line on stderr and exit code 2, not a
// stack of dependency-injection errors.
func TestPortInUseIsOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	code, stdout, stderr := runToExit(t, "PORT="+strconv.Itoa(port), "DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	if code != 2 {
		t.Fatalf("exit code %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	line := strings.TrimRight(stderr, "\n")
	if strings.Contains(line, "\n") || !strings.Contains(line, "PORT") || !strings.Contains(line, "already in use") || !strings.Contains(line, strconv.Itoa(port)) {
		t.Fatalf("want one line naming the port, got:\n%s", stderr)
	}
	if strings.Contains(stdout, "fx") && strings.Contains(stdout, "OnStart hook failed") {
		t.Fatalf("fx's errors reached the log:\n%s", stdout)
	}
}

// An unwritable DATA_DIR is one line at startup, exit code 2.
func TestUnwritableDataDirIsOneLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runToExit(t, "PORT=0", "DATA_DIR="+filepath.Join(file, "data"))
	line := strings.TrimRight(stderr, "\n")
	if code != 2 || strings.Contains(line, "\n") || !strings.HasPrefix(line, "diminuendo: DATA_DIR: ") || !strings.Contains(line, "not writable") {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	if stdout != "" {
		t.Fatalf("the gateway logged before refusing DATA_DIR:\n%s", stdout)
	}
}
