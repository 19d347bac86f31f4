// Command diminuendo-example runs one turn against a Diminuendo gateway with
// the Go client: it creates a session over WebSocket, joins it, runs a
// turn, prints the streamed text, then reads the folded turn back over REST.
//
//	go run . -url http://127.0.0.1:8080 "hello from Go"     # a gateway from `make run`
//	DIMINUENDO_TOKEN=… go run . -url https://gateway.example "hello"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/diminuendo/diminuendo/api"
	apiclient "github.com/diminuendo/diminuendo/api/client"
	"github.com/diminuendo/diminuendo/client"
)

func main() {
	base := flag.String("url", envOr("DIMINUENDO_URL", "http://127.0.0.1:8080"), "the gateway's base URL (env DIMINUENDO_URL)")
	token := flag.String("token", os.Getenv("DIMINUENDO_TOKEN"), "bearer token; none for a gateway in dev mode (env DIMINUENDO_TOKEN)")
	agent := flag.String("agent", "echo", "agent type of the new session")
	flag.Parse()
	text := strings.Join(flag.Args(), " ")
	if text == "" {
		text = "hello from Go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var tokens client.TokenSource
	if *token != "" {
		tokens = client.StaticToken(*token)
	}
	if _, err := Run(ctx, os.Stdout, *base, tokens, *agent, text); err != nil {
		fmt.Fprintln(os.Stderr, "diminuendo-example:", err)
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Run runs one turn of agentType with text on the gateway at base (its
// http(s) URL), writing the streamed reply to out, and returns the turn's
// final text as the REST history reports it.
func Run(ctx context.Context, out io.Writer, base string, tokens client.TokenSource, agentType, text string) (string, error) {
	wsURL := "ws" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http") + "/ws"
	c, err := client.Dial(ctx, client.Options{URL: wsURL, TokenSource: tokens})
	if err != nil {
		return "", err
	}
	defer c.Close()
	// Events is closed when the client is: close it when ctx ends.
	defer context.AfterFunc(ctx, func() { c.Close() })()

	s, err := c.CreateSession(ctx, client.NewSession{AgentType: agentType, Name: "Go example"})
	if err != nil {
		return "", err
	}
	// Join before running the turn, or its events are not delivered.
	if _, err := c.Join(ctx, s.Id); err != nil {
		return "", err
	}
	if err := c.RunTurn(ctx, s.Id, text, "example-turn-1"); err != nil {
		return "", err
	}
	if err := printTurn(c, s.Id, out); err != nil {
		return "", err
	}

	// The same session over REST, with the generated client.
	rest, err := apiclient.NewClientWithResponses(base, apiclient.WithRequestEditorFn(bearer(tokens)))
	if err != nil {
		return "", err
	}
	hist, err := rest.GetHistoryWithResponse(ctx, s.Id, nil)
	if err != nil {
		return "", err
	}
	if hist.JSON200 == nil || len(hist.JSON200.Turns) != 1 {
		return "", fmt.Errorf("history: HTTP %d %s", hist.StatusCode(), hist.Body)
	}
	turn := hist.JSON200.Turns[0]
	fmt.Fprintf(out, "\n[%s, %s]\n", turn.TurnId, turn.Status)
	return turn.FinalText, nil
}

// printTurn prints the turn's text as it arrives, until the turn ends.
func printTurn(c *client.Client, sessionID string, out io.Writer) error {
	for ev := range c.Events() {
		if ev.SessionID != sessionID {
			continue
		}
		switch ev.Type {
		case client.TypeTextDelta:
			fmt.Fprint(out, ev.Text())
		case client.TypeTurnComplete:
			return nil
		case client.TypeTurnError:
			var e api.TurnErrorEvent
			if err := ev.Decode(&e); err != nil {
				return err
			}
			return errors.New(e.Code + ": " + e.Message)
		}
	}
	return fmt.Errorf("the turn did not end: %w", c.Err())
}

// bearer puts a token from tokens on every REST request.
func bearer(tokens client.TokenSource) apiclient.RequestEditorFn {
	return func(ctx context.Context, req *http.Request) error {
		if tokens == nil {
			return nil
		}
		tok, err := tokens(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}
