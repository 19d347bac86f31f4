package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The healthcheck subcommand (the image's HEALTHCHECK: distroless has no
// shell or curl) exits 0 against a running gateway's /livez, found from
// HOST and PORT as the container sets them, and 1 when nothing answers.
func TestHealthcheckSubcommand(t *testing.T) {
	gw := startProcess(t, startUpstreams(t, time.Millisecond))
	host, port, ok := strings.Cut(gw.addr, ":")
	if !ok {
		t.Fatalf("address %q", gw.addr)
	}
	run := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(gatewayBinary(t), append([]string{"healthcheck"}, args...)...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	// HOST=0.0.0.0 (the image's default) is reached on loopback.
	if code, out := run([]string{"HOST=0.0.0.0", "PORT=" + port}); code != 0 {
		t.Fatalf("healthy gateway: exit %d %s", code, out)
	}
	if code, out := run([]string{"HOST=" + host, "PORT=" + port}); code != 0 {
		t.Fatalf("healthy gateway on HOST: exit %d %s", code, out)
	}
	dead := deadURL(t)
	if code, out := run(nil, "-url", dead+"/livez", "-timeout", "2s"); code != 1 || !strings.Contains(out, "unhealthy") {
		t.Fatalf("nothing listening: exit %d %s", code, out)
	}
	if code, out := run(nil, "-url", "http://"+gw.addr+"/api/nope"); code != 1 {
		t.Fatalf("a 404: exit %d %s", code, out)
	}
}

// No container runtime can pull base images on this machine, so the image
// is checked statically: base images pinned by digest, the build stage's
// Go at go.mod's version, a non-root user, the HEALTHCHECK through the
// binary, DATA_DIR as a volume, OCI labels, and a .dockerignore that keeps
// history, local artifacts and secrets out of the build context.
func TestDockerfileIsPinnedAndHardened(t *testing.T) {
	root := repoRoot(t)
	df := readFile(t, filepath.Join(root, "Dockerfile"))
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("want a build and a run stage, got %v", froms)
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)
	for _, f := range froms {
		if !pinned.MatchString(f[1]) {
			t.Errorf("base image %s is not pinned as tag@sha256:digest", f[1])
		}
	}
	// The build stage's Go: same minor as go.mod, at least its patch.
	m := regexp.MustCompile(`^golang:(\d+)\.(\d+)\.(\d+)@`).FindStringSubmatch(froms[0][1])
	gm := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(?:\.(\d+))?$`).FindStringSubmatch(readFile(t, filepath.Join(root, "go.mod")))
	if m == nil || gm == nil || m[1] != gm[1] || m[2] != gm[2] || atoi(m[3]) < atoi(gm[3]) {
		t.Errorf("build stage %s does not match go.mod's go %v", froms[0][1], gm)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^USER\s+(65532|nonroot)`),
		regexp.MustCompile(`(?m)^HEALTHCHECK\s.*CMD \["/diminuendo", "healthcheck"\]`),
		regexp.MustCompile(`(?m)^VOLUME \["/data/diminuendo"\]`),
		regexp.MustCompile(`(?m)^ENV .*DATA_DIR=/data/diminuendo`),
		regexp.MustCompile(`org\.opencontainers\.image\.source=`),
		regexp.MustCompile(`org\.opencontainers\.image\.version=`),
		regexp.MustCompile(`org\.opencontainers\.image\.revision=`),
		regexp.MustCompile(`(?m)^ENTRYPOINT \["/diminuendo"\]`),
	} {
		if !want.MatchString(df) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	if regexp.MustCompile(`(?m)^USER\s+(0|root)\b`).MatchString(df) {
		t.Error("the image runs as root")
	}
	ignore := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, filepath.Join(root, ".dockerignore"))))
	for sc.Scan() {
		ignore[strings.TrimSpace(sc.Text())] = true
	}
	for _, want := range []string{".git", "bin/", "data/", ".env", "*.pem", "*.key", "**/node_modules"} {
		if !ignore[want] {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd) // this package is <root>/e2e
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
