package ws

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// tooLarge stands in for the payload of a frame over the protocol's limit.
// The frame guard hands the WebSocket library this small frame instead of
// the oversized one, so the library never reads or buffers the payload and
// never answers with its own bare 1009: the dispatcher recognises it and
// answers MESSAGE_TOO_LARGE, then close 1009 with a reason.
var tooLarge = []byte("\x00diminuendo: frame over the size limit\x00")

// guardWriter hands the WebSocket upgrade a connection wrapped in a frame
// guard. The upgrade hijacks the connection through it; the socket itself
// goes to conn, whose writer writes to it directly.
type guardWriter struct {
	http.ResponseWriter
	limit uint64
	conn  *conn
}

func (w guardWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("ws: the response cannot be hijacked")
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn.raw = c
	return &frameGuard{Conn: c, limit: w.limit, cut: w.conn.cut, wmu: &w.conn.wmu}, brw, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w guardWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// frameGuard watches the frames a client sends, as they stream through,
// and replaces a data message whose payload goes over limit with tooLarge,
// reading and discarding the rest of it: the frame that crosses the limit
// becomes a final frame carrying tooLarge (so the message the library
// assembles ends with it, within its own limit), and the message's later
// fragments are dropped. Reading all of it, never holding it, lets a
// client that writes the whole message finish and then read the error and
// the close frame; closing on it mid-write would reset the connection
// (1006 to the client). Everything else passes unchanged, with no copy in
// the common case. Only the connection's one reader calls Read.
type frameGuard struct {
	net.Conn
	limit uint64
	// cut counts the stand-ins handed to the reader and not yet claimed
	// by the dispatcher (nil: not counted), so that a client sending the
	// tooLarge bytes itself is not taken for an oversized message.
	cut *atomic.Int64
	// wmu serialises the library's own writes (its handshake answer, a
	// close on a protocol error) with the connection's writer.
	wmu *sync.Mutex

	in      []byte // bytes read but not yet scanned (a split header, or what followed a dropped frame)
	out     []byte // bytes scanned and ready for the reader
	repl    []byte // the replacement frame, due once drain is done
	payload uint64 // bytes of the current passing frame's payload still to come
	drain   uint64 // bytes of a dropped frame's payload still to discard
	msgLen  uint64 // payload so far of the current data message
	swallow bool   // dropping the rest of an oversized message
	dropped uint64 // bytes of the current oversized message dropped so far
}

// Write writes for the WebSocket library, never between two of the
// connection writer's writes.
func (g *frameGuard) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.Conn.Write(p)
}

// maxSwallow bounds what is read of one oversized message before the
// replacement goes out regardless: a message that never ends must not hold
// its connection for good.
const maxSwallow = 256 << 20

// Read fills p with what the client sent, oversized messages replaced. It
// never returns 0 bytes without an error.
func (g *frameGuard) Read(p []byte) (int, error) {
	for {
		switch {
		case len(g.out) > 0:
			n := copy(p, g.out)
			g.out = g.out[n:]
			return n, nil
		case g.drain > 0:
			if err := g.discard(p); err != nil {
				return 0, err
			}
			continue
		case g.repl != nil && (!g.swallow || g.dropped > maxSwallow):
			// Only once the whole message is read, so the client has
			// finished writing it before the close that follows.
			g.out, g.repl, g.swallow = g.repl, nil, false
			if g.cut != nil {
				g.cut.Add(1)
			}
			continue
		case len(g.in) > 0:
			pass, dropped, whole := g.scan(g.in)
			if pass > 0 || dropped > 0 {
				g.out = bytes.Clone(g.in[:pass])
				g.in = g.in[pass+dropped:]
				continue
			}
			if whole {
				g.in = g.in[:0]
				continue
			}
			// A header still split: read on and append.
			n, err := g.Conn.Read(p)
			g.in = append(g.in, p[:n]...)
			if err != nil {
				return 0, err
			}
			continue
		}
		n, err := g.Conn.Read(p)
		pass, dropped, _ := g.scan(p[:n])
		if rest := p[pass+dropped : n]; len(rest) > 0 {
			g.in = append(g.in[:0], rest...)
		}
		if pass > 0 || err != nil {
			return pass, err
		}
	}
}

// scan walks the frames in b and returns how many bytes pass from its
// start, and how many after those belong to a dropped frame (its header
// and the part of its payload in b). It stops at a dropped frame, so what
// follows is scanned after the replacement; whole reports that b held no
// cut-off header.
func (g *frameGuard) scan(b []byte) (pass, dropped int, whole bool) {
	pos := 0
	for pos < len(b) {
		if g.payload > 0 {
			skip := min(uint64(len(b)-pos), g.payload)
			pos += int(skip)
			g.payload -= skip
			continue
		}
		hlen, plen, ok := parseHeader(b[pos:])
		if !ok {
			return pos, 0, false
		}
		fin, opcode := b[pos]&0x80 != 0, b[pos]&0x0f
		if opcode >= 0x8 { // control frames pass, even amid a dropped message
			g.payload = plen
			pos += hlen
			continue
		}
		if opcode != 0 {
			g.msgLen = 0
		}
		g.msgLen += plen
		if !g.swallow && g.msgLen <= g.limit {
			g.payload = plen
			pos += hlen
			continue
		}
		if !g.swallow {
			// The frame that crosses the limit ends the message for the
			// reader, with tooLarge.
			g.repl = replacement(0x80 | opcode)
			g.dropped = 0
		}
		g.swallow = !fin
		g.dropped += plen
		inB := min(uint64(len(b)-pos-hlen), plen)
		g.drain = plen - inB
		return pos, hlen + int(inB), true
	}
	return pos, 0, true
}

// discard reads and drops the rest of a dropped frame's payload, using p
// as scratch space.
func (g *frameGuard) discard(p []byte) error {
	for g.drain > 0 {
		buf := p[:min(uint64(len(p)), g.drain)]
		n, err := g.Conn.Read(buf)
		g.drain -= uint64(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// replacement is a masked frame (mask key zero: any key is valid) with the
// given first byte (FIN and opcode) and tooLarge as payload.
func replacement(b0 byte) []byte {
	f := make([]byte, 0, 6+len(tooLarge))
	f = append(f, b0, 0x80|byte(len(tooLarge)), 0, 0, 0, 0)
	return append(f, tooLarge...)
}

// parseHeader reads a WebSocket frame header (RFC 6455 §5.2) at the start
// of b: its length and the payload's, or ok false when b holds only part.
func parseHeader(b []byte) (hlen int, plen uint64, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	hlen = 2
	plen = uint64(b[1] & 0x7f)
	switch plen {
	case 126:
		hlen += 2
	case 127:
		hlen += 8
	}
	if b[1]&0x80 != 0 {
		hlen += 4
	}
	if len(b) < hlen {
		return 0, 0, false
	}
	switch plen {
	case 126:
		plen = uint64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		plen = binary.BigEndian.Uint64(b[2:10])
	}
	return hlen, plen, true
}
