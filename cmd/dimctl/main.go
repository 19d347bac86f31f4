// Command dimctl is a small WebSocket client of the gateway, built on the
// client package: it connects, authenticates, creates (or joins) a session,
// runs one turn and prints every frame it sends (>) and receives (<) as one
// JSON line, until the turn completes. Permission prompts are approved with
// -approve, denied with -deny, or asked about on the terminal.
//
//	dimctl -agent echo "hello there"
//	dimctl -agent guarded-agent -approve "note the plan"
//	dimctl -token "$(mint-token …)" -session ses_… -after 12 -epoch … "next turn"
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/client"
)

type config struct {
	url, token, agent, session, epoch, text string
	after                                   int64
	timeout                                 time.Duration
	approve, deny                           bool
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "ws://127.0.0.1:8080/ws", "gateway WebSocket URL")
	flag.StringVar(&c.token, "token", os.Getenv("DIMINUENDO_TOKEN"), "bearer token (not needed in dev mode)")
	flag.StringVar(&c.agent, "agent", "echo", "agent type of a new session")
	flag.StringVar(&c.session, "session", "", "join this session instead of creating one")
	flag.Int64Var(&c.after, "after", -1, "resume after this seq (with -session)")
	flag.StringVar(&c.epoch, "epoch", "", "the epoch the -after seq belongs to")
	flag.DurationVar(&c.timeout, "timeout", 60*time.Second, "give up after this long")
	flag.BoolVar(&c.approve, "approve", false, "approve every permission prompt")
	flag.BoolVar(&c.deny, "deny", false, "deny every permission prompt")
	flag.Parse()
	c.text = strings.Join(flag.Args(), " ")
	if c.approve && c.deny {
		fmt.Fprintln(os.Stderr, "dimctl: -approve and -deny exclude each other")
		os.Exit(2)
	}
	if err := run(c, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dimctl:", err)
		os.Exit(1)
	}
}

// tokenField hides a token sent in an authenticate message (on refresh).
var tokenField = regexp.MustCompile(`"token":"[^"]*"`)

func run(c config, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var mu sync.Mutex
	opts := client.Options{URL: c.url, Trace: func(sent bool, frame []byte) {
		dir := "<"
		if sent {
			dir = ">"
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(stdout, dir, tokenField.ReplaceAllString(string(frame), `"token":"…"`))
	}}
	if c.token != "" {
		opts.TokenSource = client.StaticToken(c.token)
	}
	cl, err := client.Dial(ctx, opts)
	if err != nil {
		return err
	}
	defer cl.Close()

	if c.session == "" {
		s, err := cl.CreateSession(ctx, client.NewSession{AgentType: c.agent})
		if err != nil {
			return err
		}
		c.session = s.Id
	}
	var latest int64
	if c.after >= 0 {
		snap, err := cl.Resume(ctx, c.session, c.after, c.epoch)
		if err != nil {
			return err
		}
		latest = snap.LatestSeq
	} else {
		snap, err := cl.Join(ctx, c.session)
		if err != nil {
			return err
		}
		latest = snap.LatestSeq
	}
	if c.text == "" {
		return nil
	}
	if err := cl.RunTurn(ctx, c.session, c.text, ""); err != nil {
		return err
	}
	answers := bufio.NewReader(stdin)
	for {
		var ev client.Event
		select {
		case ev = <-cl.Events():
		case <-cl.Done():
			return cl.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
		switch {
		case ev.Type == client.TypeError && ev.RequestID == "":
			var e api.ErrorEvent
			_ = ev.Decode(&e)
			return fmt.Errorf("%s: %s", e.Code, e.Message)
		case ev.SessionID != c.session || ev.Seq <= latest:
			// Another session's frame, or the replay of an earlier turn.
		case ev.Type == client.TypePermissionRequested:
			if err := answer(ctx, cl, c, ev, answers, stderr, &mu); err != nil {
				return err
			}
		case ev.Type == client.TypeQuestionRequested:
			var q api.QuestionRequestedEvent
			_ = ev.Decode(&q)
			fmt.Fprintln(stderr, "dimctl: dismissing a question (dimctl answers permission prompts only)")
			if err := cl.Answer(ctx, c.session, q.PromptId, client.Answer{Dismissed: true}); err != nil {
				return err
			}
		case ev.Type == client.TypeTurnComplete, ev.Type == client.TypeTurnError:
			return nil
		}
	}
}

// answer approves or denies a permission prompt as the flags say, or asks.
func answer(ctx context.Context, cl *client.Client, c config, ev client.Event, in *bufio.Reader, stderr io.Writer, mu *sync.Mutex) error {
	var p api.PermissionRequestedEvent
	if err := ev.Decode(&p); err != nil {
		return err
	}
	approve := c.approve
	if !c.approve && !c.deny {
		mu.Lock()
		fmt.Fprintf(stderr, "allow %s (%s)? [y/N] ", p.ToolName, p.Description)
		mu.Unlock()
		line, err := in.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		reply := strings.ToLower(strings.TrimSpace(line))
		approve = reply == "y" || reply == "yes"
	}
	if approve {
		return cl.Approve(ctx, c.session, p.PromptId)
	}
	return cl.Deny(ctx, c.session, p.PromptId)
}
