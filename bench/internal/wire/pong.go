package wire

import (
	"errors"
	"time"

	"github.com/gorilla/websocket"
)

// pongWait bounds a pong's write. The library's default is one second,
// measured from when the ping is read; a load tool whose own goroutines
// queue for the CPU behind a thousand busy readers can pass that before
// the write is issued, and the library then ends the connection, which
// the tool would misreport as events the gateway never delivered.
const pongWait = 10 * time.Second

// PatientPongs makes c answer pings with a pong written within pongWait.
func PatientPongs(c *websocket.Conn) {
	c.SetPingHandler(func(data string) error {
		err := c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(pongWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
}
