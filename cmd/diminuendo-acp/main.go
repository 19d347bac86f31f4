// Command diminuendo-acp lets an editor run the gateway's agents as a local
// ACP agent: the editor launches it, speaks ACP (newline-delimited JSON-RPC)
// on its stdin and stdout, and it forwards every message to the gateway's
// /acp WebSocket. When the connection drops (a network change, a gateway
// restart) it reconnects, loads its sessions after the last event it passed
// on, and finishes the prompt that was running, so the editor sees neither
// a gap nor a duplicate.
//
//	DIMINUENDO_URL            the gateway's /acp URL (default ws://127.0.0.1:8080/acp)
//	DIMINUENDO_TOKEN          a bearer token, or
//	DIMINUENDO_TOKEN_COMMAND  a command printing one (run by sh -c at every connection, e.g. "gh auth token")
//
// Flags override the environment. Logs go to stderr.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
)

func main() {
	url := flag.String("url", envOr("DIMINUENDO_URL", "ws://127.0.0.1:8080/acp"), "the gateway's /acp WebSocket URL")
	token := flag.String("token", os.Getenv("DIMINUENDO_TOKEN"), "bearer token (prefer the environment: flags show in ps)")
	tokenCmd := flag.String("token-command", os.Getenv("DIMINUENDO_TOKEN_COMMAND"), "command that prints a bearer token, run before every connection")
	verbose := flag.Bool("v", os.Getenv("DIMINUENDO_ACP_DEBUG") != "", "log every reconnection step")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	b := newBridge(*url, tokenSource(*token, *tokenCmd), os.Stdout, log)
	if err := b.run(os.Stdin); err != nil {
		log.Error("bridge stopped", "err", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// tokenSource returns the token to present on each connection: the token
// command's output when one is set (tokens expire; the command refreshes
// them), else the fixed token, else none (a gateway in dev mode).
func tokenSource(token, command string) func() (string, error) {
	return func() (string, error) {
		if command == "" {
			return token, nil
		}
		out, err := exec.Command("sh", "-c", command).Output()
		if err != nil {
			return "", fmt.Errorf("token command: %w", err)
		}
		return strings.TrimSpace(string(out)), nil
	}
}
