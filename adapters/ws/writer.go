package ws

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app"
)

// The writer's timing: a write that cannot finish within writeWait fails
// the connection (its client resumes elsewhere); a client that answers no
// ping for pongWait is gone; after the server's close frame the client has
// closeWait to answer it (it may first have a backlog to read) before the
// socket is ended, and lingerWait (or lingerBytes of input) for its side of
// the socket to close.
const (
	writeWait   = 10 * time.Second
	pongWait    = 60 * time.Second
	pingPeriod  = 25 * time.Second
	closeWait   = 10 * time.Second
	lingerWait  = time.Second
	lingerBytes = 1 << 20
)

// writeChunk bounds what one drain step takes from the outbox and so what
// one write carries; a batched frame is at most this long too, unless one
// message alone is longer.
const writeChunk = batchFrameBytes

// inlineMax is the largest message copied into the write buffer; a longer
// one goes to the socket from where it is (a gathered write), not copied.
const inlineMax = 16 << 10

// writeBufs holds the writers' buffers between drains, so an idle
// connection holds none.
var writeBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, writeChunk+2*maxHeader+inlineMax)
	return &b
}}

var takeBufs = sync.Pool{New: func() any {
	m := make([][]byte, 0, 64)
	return &m
}}

const maxHeader = 10 // RFC 6455 §5.2: a server frame's header is at most 10 bytes

// appendFrame appends one unmasked, final frame of type op carrying
// payload (RFC 6455 §5.2: a server never masks).
func appendFrame(b []byte, op int, payload []byte) []byte {
	b = appendHeader(b, op, len(payload))
	return append(b, payload...)
}

func appendHeader(b []byte, op, n int) []byte {
	b0 := byte(op) | 0x80
	switch {
	case n < 126:
		return append(b, b0, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, b0, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, b0, 127), uint64(n))
	}
}

// drain is the connection's writer, started by its outbox when work
// arrives: it takes everything queued, frames it, and writes it in one
// write, until the outbox is empty.
func (c *conn) drain() {
	bp := writeBufs.Get().(*[]byte)
	mp := takeBufs.Get().(*[][]byte)
	defer func() {
		if cap(*bp) <= 4*writeChunk {
			writeBufs.Put(bp)
		}
		*mp = (*mp)[:0]
		takeBufs.Put(mp)
	}()
	for {
		f := framer{buf: c.appendControl((*bp)[:0])}
		msgs, next := c.out.Take((*mp)[:0], writeChunk)
		if c.batch {
			f.batches(msgs)
		} else {
			for _, m := range msgs {
				f.frame(websocket.TextMessage, m)
			}
		}
		if next == app.DrainEnd {
			if p := c.closeMsg.Load(); p != nil {
				f.frame(websocket.CloseMessage, *p)
			}
		}
		ok := true
		if bufs := f.bufs(); len(bufs) > 1 || len(bufs[0]) > 0 {
			ok = c.write(bufs, next == app.DrainEnd)
			if ok {
				for _, m := range msgs {
					c.noteOut(m)
				}
			}
		}
		*bp = f.buf[:0]
		clear(msgs)
		*mp = msgs[:0]
		switch {
		case !ok:
			return
		case next == app.DrainMore:
			continue
		case next == app.DrainEnd:
			// The client answers the close frame; the reader ends on its
			// answer or at the deadline, and closes the socket.
			_ = c.raw.SetReadDeadline(time.Now().Add(closeWait))
			return
		default:
			return
		}
	}
}

// appendControl appends the ping and pong frames due.
func (c *conn) appendControl(buf []byte) []byte {
	if p := c.pong.Swap(nil); p != nil {
		buf = appendFrame(buf, websocket.PongMessage, *p)
	}
	if c.pingDue.Swap(false) {
		buf = appendFrame(buf, websocket.PingMessage, nil)
	}
	return buf
}

// framer lays frames out for one write: short ones copied into buf, a
// long message left where it is and gathered into the write beside them.
type framer struct {
	buf  []byte
	mark int         // buf[:mark] is already in big
	big  net.Buffers // the write's parts before buf[mark:]
}

// frame adds one frame of type op carrying payload.
func (f *framer) frame(op int, payload []byte) {
	if len(payload) <= inlineMax {
		f.buf = appendFrame(f.buf, op, payload)
		return
	}
	f.buf = appendHeader(f.buf, op, len(payload))
	f.big = append(f.big, f.buf[f.mark:], payload)
	f.mark = len(f.buf)
}

// batches frames msgs for a client that asked for batches: as few text
// frames as writeChunk allows, each holding messages joined by '\n'. A
// message holding a newline byte (no JSON encoder writes one, but the
// transport does not count on it) goes alone, so every line of a frame is
// one whole message.
func (f *framer) batches(msgs [][]byte) {
	for i := 0; i < len(msgs); {
		n, size := 1, len(msgs[i])
		if bytes.IndexByte(msgs[i], '\n') < 0 {
			for _, m := range msgs[i+1:] {
				if size+1+len(m) > writeChunk || bytes.IndexByte(m, '\n') >= 0 {
					break
				}
				n++
				size += 1 + len(m)
			}
		}
		if n == 1 {
			f.frame(websocket.TextMessage, msgs[i])
			i++
			continue
		}
		f.buf = appendHeader(f.buf, websocket.TextMessage, size)
		for j := i; j < i+n; j++ {
			if j > i {
				f.buf = append(f.buf, '\n')
			}
			f.buf = append(f.buf, msgs[j]...)
		}
		i += n
	}
}

// bufs is the whole write.
func (f *framer) bufs() net.Buffers { return append(f.big, f.buf[f.mark:]) }

// write puts bufs on the socket in one gathered write, within writeWait.
// last marks the write carrying the close frame, after which nothing is
// written. On failure the socket is closed, which ends the reader and the
// connection.
func (c *conn) write(bufs net.Buffers, last bool) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return false
	}
	if last {
		c.closeSent = true
	}
	// The deadline moves only when it has come within a second of its
	// bound: every write still has 9 to 10 s, and a busy connection does
	// not re-arm the poller's timer on every write.
	if now := time.Now(); now.Add(writeWait - time.Second).After(c.writeDeadline) {
		c.writeDeadline = now.Add(writeWait)
		_ = c.raw.SetWriteDeadline(c.writeDeadline)
	}
	if _, err := bufs.WriteTo(c.raw); err != nil {
		_ = c.raw.Close()
		return false
	}
	return true
}
