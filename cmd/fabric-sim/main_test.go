package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/internal/syncbuf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 30 * time.Second

var testKeys = map[string]string{
	"PODIUM_API_KEY": "pod_fs_key", "UNISON_API_KEY": "uni_fs_key", "ENSEMBLE_API_KEY": "ens_fs_key", "PODIUM_SECRETS_KEY": "sealing",
}

var anyPort = []string{"-podium", "127.0.0.1:0", "-unison", "127.0.0.1:0", "-ensemble", "127.0.0.1:0"}

func TestTheBuiltCommandServesEveryServiceAndStopsOnASignal(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain on PATH to build the command with")
	}
	bin := filepath.Join(t.TempDir(), "fabric-sim")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, anyPort...)
			cmd.Env = os.Environ()
			for k, v := range testKeys {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr syncbuf.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			lines := make(chan string, 8)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				exited <- cmd.Wait() // after stdout is drained, as Wait requires
			}()

			urls := readURLs(t, lines, &stderr)
			checkServices(t, urls)

			require.NoError(t, cmd.Process.Signal(sig))
			select {
			case err := <-exited:
				require.NoError(t, err, "exit status; stderr:\n%s", stderr.String())
				assert.Equal(t, 0, cmd.ProcessState.ExitCode())
			case <-ctx.Done():
				t.Fatalf("fabric-sim did not stop on %s; stderr:\n%s", sig, stderr.String())
			}
			assert.Contains(t, stderr.String(), "fabric-sim: stopping")
			assert.NotContains(t, stderr.String(), "is empty", "every key was set")
		})
	}
}

// inProcess is run in this process with the test keys: its output lines
// as they come, its stderr, and its result once its context ends.
type inProcess struct {
	lines  chan string
	stderr *syncbuf.Buffer
	done   chan error
}

func startInProcess(ctx context.Context, args []string) *inProcess {
	pr, pw := io.Pipe()
	p := &inProcess{lines: make(chan string, 8), stderr: &syncbuf.Buffer{}, done: make(chan error, 1)}
	go func() {
		p.done <- run(ctx, args, func(k string) string { return testKeys[k] }, pw, p.stderr)
		pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p
}

// wait fails the test unless run returns nil soon after its context ended.
func (p *inProcess) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatal("run did not return after its context ended")
	}
	for range p.lines { // drained: the reader goroutine ends with the pipe
	}
}

func TestRunInProcessStopsWhenItsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := startInProcess(ctx, anyPort)
	checkServices(t, readURLs(t, p.lines, p.stderr))
	cancel()
	p.wait(t)
}

func TestRunServesProfilesOnlyOnItsOwnAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := startInProcess(ctx, append(append([]string{}, anyPort...), "-pprof", "127.0.0.1:0"))
	first := <-p.lines
	f := strings.Fields(first)
	require.Len(t, f, 2, first)
	require.Equal(t, "pprof", f[0], "the profile address comes first")
	urls := readURLs(t, p.lines, p.stderr)

	res, err := http.Get(f[1] + "goroutine?debug=1")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(body), "goroutine profile")

	res, err = http.Get(urls["podium"] + "/debug/pprof/")
	require.NoError(t, err)
	res.Body.Close()
	assert.NotEqual(t, http.StatusOK, res.StatusCode, "the simulators' own listeners serve no profiles")

	cancel()
	p.wait(t)
	_, err = http.Get(f[1])
	assert.Error(t, err, "the profile listener is closed with the rest")
}

func TestRunRefusesNonLoopbackAddresses(t *testing.T) {
	for _, args := range [][]string{
		{"-podium", "0.0.0.0:5082"},
		{"-unison", "192.168.1.10:8005"},
		{"-ensemble", ":5180"},
		{"-ensemble", "example.com:5180"},
		{"-pprof", "0.0.0.0:6060"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(append([]string{}, anyPort...), args...), func(string) string { return "" }, &stdout, &stderr)
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "-"+strings.TrimPrefix(args[0], "-"))
		assert.Empty(t, stdout.String(), "nothing started, nothing printed")
	}
}

func TestRunRefusesABadCommandLine(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"-step-delay", "soon"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
		assert.ErrorIs(t, err, errUsage, args)
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, io.Discard, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr.String(), "PODIUM_API_KEY")
}

// readURLs collects the four service lines, "<name> <url> ...".
func readURLs(t *testing.T, lines <-chan string, stderr *syncbuf.Buffer) map[string]string {
	t.Helper()
	urls := map[string]string{}
	deadline := time.After(wait)
	for len(urls) < 4 {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "output ended early; stderr:\n%s", stderr.String())
			f := strings.Fields(line)
			require.GreaterOrEqual(t, len(f), 2, line)
			urls[f[0]] = f[1]
		case <-deadline:
			t.Fatalf("no service lines; stderr:\n%s", stderr.String())
		}
	}
	require.ElementsMatch(t, []string{"podium", "chronicle", "unison", "ensemble"}, keysOf(urls))
	assert.Equal(t, urls["podium"], urls["chronicle"], "Chronicle is served by Podium")
	return urls
}

// checkServices asks each service one authenticated question.
func checkServices(t *testing.T, urls map[string]string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(url, key string) (int, []byte) {
		req, err := http.NewRequest("GET", url, nil)
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := c.Do(req)
		require.NoError(t, err, url)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, body
	}

	code, _ := get(urls["podium"]+"/api/v1/health", "")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get(urls["podium"]+"/api/v1/instances/inst_missing", testKeys["PODIUM_API_KEY"])
	assert.Equal(t, http.StatusNotFound, code, "podium knows the key")
	code, _ = get(urls["podium"]+"/api/v1/instances/inst_missing", "")
	assert.Equal(t, http.StatusUnauthorized, code)

	code, _ = get(urls["unison"]+"/api/v1/health", "")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get(urls["unison"]+"/api/v1/kv/ns/missing", testKeys["UNISON_API_KEY"])
	assert.Equal(t, http.StatusNotFound, code, "unison knows the key")

	code, body := get(urls["ensemble"]+"/api/v1/models", testKeys["ENSEMBLE_API_KEY"])
	require.Equal(t, http.StatusOK, code)
	var catalog struct{ Models []map[string]any }
	require.NoError(t, json.Unmarshal(body, &catalog))
	assert.NotEmpty(t, catalog.Models)
	code, _ = get(urls["ensemble"]+"/api/v1/health", "")
	assert.Equal(t, http.StatusOK, code)
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
