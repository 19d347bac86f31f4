// Package scripts holds the tests of the shell scripts beside them.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

// checkout is a temp directory laid out like the repository, with the real
// setup.sh and .env.example, so the script runs exactly as shipped.
func checkout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{"setup.sh": "scripts/setup.sh", "../.env.example": ".env.example"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// setup runs the script with stdin not a terminal and PATH set to path
// (plus the system's, for bash and coreutils).
func setup(t *testing.T, dir, path string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(dir, "scripts/setup.sh")}, args...)...)
	cmd.Dir = t.TempDir() // the script finds the checkout from its own path
	cmd.Stdin = bytes.NewReader(nil)
	cmd.Env = append([]string{"PATH=" + path + string(os.PathListSeparator) + "/usr/bin:/bin", "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readEnv(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := godotenv.Unmarshal(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw), vars
}

// noAWS is a PATH directory with no aws in it.
func noAWS(t *testing.T) string {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is required")
	}
	return t.TempDir()
}

func TestFreshWriteCopiesTheExample(t *testing.T) {
	dir := checkout(t)
	out, err := setup(t, dir, noAWS(t), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	raw, _ := readEnv(t, dir)
	example, _ := os.ReadFile(filepath.Join(dir, ".env.example"))
	if raw != string(example) {
		t.Fatal(".env differs from .env.example")
	}
	st, _ := os.Stat(filepath.Join(dir, ".env"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf(".env mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(out, "from .env.example") {
		t.Fatal(out)
	}
}

func TestExistingEnvIsKeptWithoutATerminal(t *testing.T) {
	dir := checkout(t)
	mine := "PORT=9999\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := setup(t, dir, noAWS(t), nil)
	if err == nil || !strings.Contains(out, "--force") {
		t.Fatalf("want a refusal naming --force, got err=%v\n%s", err, out)
	}
	if raw, _ := readEnv(t, dir); raw != mine {
		t.Fatalf(".env changed: %q", raw)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".env.*"))
	if len(left) != 1 { // .env.example only: no temp file left behind
		t.Fatalf("files left: %v", left)
	}

	out, err = setup(t, dir, noAWS(t), nil, "--force")
	if err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if _, vars := readEnv(t, dir); vars["PORT"] != "8080" {
		t.Fatalf("--force did not rewrite .env: %v", vars)
	}
}

// A fake aws CLI records its arguments and prints parameters as the real
// one does with --output text.
func fakeAWS(t *testing.T, output string, exit int) (bin, argsFile string) {
	t.Helper()
	bin = t.TempDir()
	argsFile = filepath.Join(bin, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\ncat <<'PARAMS'\n" + output + "PARAMS\nexit " + string(rune('0'+exit)) + "\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

func TestValuesComeFromSSM(t *testing.T) {
	dir := checkout(t)
	params := "/diminuendo/dev/AUTH0_DOMAIN\tacme.eu.auth0.com\n" +
		"/diminuendo/dev/DEV_MODE\tfalse\n" +
		"/diminuendo/dev/PODIUM_API_KEY\tk'ey$HOME\"x\n" +
		"/diminuendo/dev/EXTRA_SETTING\ta b\n" +
		"/diminuendo/dev/not-a-var\tz\n"
	bin, argsFile := fakeAWS(t, params, 0)
	out, err := setup(t, dir, bin, []string{"SSM_PREFIX=/diminuendo/dev/"})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	args, _ := os.ReadFile(argsFile)
	if got := strings.Join(strings.Fields(string(args)), " "); !strings.HasPrefix(got, "ssm get-parameters-by-path --path /diminuendo/dev --with-decryption") {
		t.Fatalf("aws called with %q", got)
	}
	raw, vars := readEnv(t, dir)
	for k, want := range map[string]string{
		"AUTH0_DOMAIN": "acme.eu.auth0.com", "DEV_MODE": "false", "PODIUM_API_KEY": `k'ey$HOME"x`,
		"EXTRA_SETTING": "a b", "PORT": "8080", "HOST": "127.0.0.1",
	} {
		if vars[k] != want {
			t.Errorf("%s = %q, want %q", k, vars[k], want)
		}
	}
	if _, ok := vars["not-a-var"]; ok {
		t.Error("a parameter that is not a variable name was written")
	}
	if n := len(regexp.MustCompile(`(?m)^#? ?DEV_MODE=`).FindAllString(raw, -1)); n != 1 {
		t.Errorf("DEV_MODE written more than once:\n%s", raw)
	}
	if !strings.Contains(out, "not-a-var") || !strings.Contains(out, "4 SSM parameters under /diminuendo/dev") {
		t.Fatal(out)
	}

	// The prefix as an argument, and a failing CLI writes nothing.
	failing, _ := fakeAWS(t, "", 3)
	if err := os.Remove(filepath.Join(dir, ".env")); err != nil {
		t.Fatal(err)
	}
	out, err = setup(t, dir, failing, nil, "/diminuendo/dev")
	if err == nil || !strings.Contains(out, "failed") {
		t.Fatalf("want a failure, got %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".env")); !os.IsNotExist(err) {
		t.Fatal(".env written after a failed SSM read")
	}
}
