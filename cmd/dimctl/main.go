// Command dimctl is a small WebSocket client of the gateway: it connects,
// authenticates, creates (or joins) a session, runs one turn and prints every
// frame it receives as one JSON line, until the turn completes.
//
//	dimctl -agent echo "hello there"
//	dimctl -token "$(mint-token …)" -session ses_… -after 12 -epoch … "next turn"
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/ws", "gateway WebSocket URL")
	token := flag.String("token", os.Getenv("DIMINUENDO_TOKEN"), "bearer token (not needed in dev mode)")
	agent := flag.String("agent", "echo", "agent type of a new session")
	session := flag.String("session", "", "join this session instead of creating one")
	after := flag.Int64("after", -1, "resume after this seq (with -session)")
	epoch := flag.String("epoch", "", "the epoch the -after seq belongs to")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if err := run(*url, *token, *agent, *session, *after, *epoch, strings.Join(flag.Args(), " "), *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "dimctl:", err)
		os.Exit(1)
	}
}

func run(url, token, agent, session string, after int64, epoch, text string, timeout time.Duration) error {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	c, _, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	send := func(v map[string]any) error {
		b, _ := json.Marshal(v)
		fmt.Println(">", string(b))
		return c.WriteMessage(websocket.TextMessage, b)
	}
	joined := false
	for {
		_ = c.SetReadDeadline(deadline)
		_, b, err := c.ReadMessage()
		if err != nil {
			return err
		}
		fmt.Println("<", string(b))
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		switch m["type"] {
		case "authenticated":
			if session != "" {
				j := map[string]any{"type": "join_session", "sessionId": session, "requestId": "join"}
				if after >= 0 {
					j["afterSeq"], j["epoch"] = after, epoch
				}
				err = send(j)
			} else {
				err = send(map[string]any{"type": "create_session", "agentType": agent, "requestId": "create"})
			}
		case "session_created":
			session = m["session"].(map[string]any)["id"].(string)
			err = send(map[string]any{"type": "join_session", "sessionId": session, "requestId": "join"})
		case "state_snapshot":
			joined = true
			if text == "" {
				return nil
			}
			err = send(map[string]any{"type": "run_turn", "sessionId": session, "text": text})
		case "turn_complete", "turn_error":
			if joined {
				return nil
			}
		case "error":
			return fmt.Errorf("%v: %v", m["code"], m["message"])
		}
		if err != nil {
			return err
		}
	}
}
