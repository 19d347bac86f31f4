package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawRequest writes one HTTP/1.1 request line by hand, so methods no HTTP
// client would send reach the server, and reads the status line.
func rawRequest(t *testing.T, addr, method, path string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, path, addr); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// Metric labels come from closed sets: invented methods are OTHER and paths
// are route templates, so no request can add series or memory for good.
func TestMetricLabelsStayBounded(t *testing.T) {
	g := startGateway(t, nil)
	scrape := func() string {
		resp, err := httpClient("").Get(g.url("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	series := func(body string) (n int) {
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "diminuendo_http_requests_total{") {
				n++
			}
		}
		return n
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// One of each closed-set route shape first, so the baseline holds them.
	warm := func() {
		for _, p := range []string{"/ws", "/api/sessions/ses_a/events", "/nope/a"} {
			rawRequest(t, g.addr, "BREW", p)
		}
	}
	warm()
	scrape() // the scrape itself is a series
	before := scrape()
	heapBefore := heap()

	long := strings.Repeat("M", 256<<10)
	for i := 0; i < 300; i++ {
		method := fmt.Sprintf("X%dMETHOD", i)
		if i%50 == 0 {
			method = long
		}
		path := []string{"/ws", fmt.Sprintf("/api/sessions/ses_%d/events", i), fmt.Sprintf("/nope/%d", i)}[i%3]
		rawRequest(t, g.addr, method, path)
	}
	warm()
	after := scrape()
	if b, a := series(before), series(after); a > b {
		t.Errorf("invented methods and paths added metric series: %d before, %d after:\n%s", b, a, grepLines(after, "diminuendo_http_requests_total{"))
	}
	if len(after) > len(before)+4096 {
		t.Errorf("/metrics grew from %d to %d bytes", len(before), len(after))
	}
	if grown := int64(heap()) - int64(heapBefore); grown > 4<<20 {
		t.Errorf("the heap grew %d bytes and kept it", grown)
	}
	for _, l := range strings.Split(after, "\n") {
		if strings.HasPrefix(l, "diminuendo_http_requests_total{") && (strings.Contains(l, "METHOD") || strings.Contains(l, "ses_")) {
			t.Fatalf("a raw method or path became a label: %.200s", l)
		}
	}
}

func grepLines(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
