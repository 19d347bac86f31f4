package simkit_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServerIsLoopbackOnlyStartsOnceAndNotAfterClose(t *testing.T) {
	s := &simkit.Server{Name: "testsim"}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "example.com:80", "no-port"} {
		_, err := s.Start(addr, ok, nil)
		assert.ErrorContains(t, err, "testsim: ", addr)
	}
	base, err := s.Start("", ok, nil)
	require.NoError(t, err)
	assert.Equal(t, base, s.URL())
	_, err = s.Start("127.0.0.1:0", ok, nil)
	assert.ErrorContains(t, err, "already started")
	s.Close()
	_, err = s.Start("127.0.0.1:0", ok, nil)
	assert.True(t, errors.Is(err, simkit.ErrClosed))
}

func TestFaults(t *testing.T) {
	var f simkit.Faults
	s := &simkit.Server{Name: "testsim"}
	base, err := s.Start("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Refusing() {
			simkit.Drop(w, "unavailable")
			return
		}
		if !f.Delay(r) {
			return
		}
		if f.Fail(w, "unavailable") {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), &f)
	require.NoError(t, err)
	tr := &http.Transport{}
	defer func() {
		s.Close()
		tr.CloseIdleConnections()
	}()
	hc := &http.Client{Transport: tr}
	status := func() int {
		resp, err := hc.Get(base)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	f.FailNext(2, http.StatusBadGateway)
	assert.Equal(t, []int{502, 502, 204}, []int{status(), status(), status()})
	f.FailNext(5, http.StatusBadGateway)
	f.FailNext(-1, 0)
	assert.Equal(t, 204, status(), "n <= 0 cancels what is left")

	f.SetLatency(30 * time.Millisecond)
	begin := time.Now()
	status()
	assert.GreaterOrEqual(t, time.Since(begin), 30*time.Millisecond)
	f.SetLatency(0)

	f.RefuseConnections(true)
	assert.Zero(t, status(), "no answer at all")
	tr.CloseIdleConnections()
	assert.Zero(t, status(), "new connections are reset too")
	f.RefuseConnections(false)
	assert.Equal(t, 204, status())
}

func TestAdmit(t *testing.T) {
	admit := func(auth, key string) (bool, int) {
		r := httptest.NewRequest("GET", "http://h/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		return simkit.Admit(w, r, key), w.Code
	}
	ok, _ := admit("", "")
	assert.True(t, ok, "no key lets every caller in")
	ok, _ = admit("Bearer k", "k")
	assert.True(t, ok)
	for _, auth := range []string{"", "k", "Bearer wrong", "Basic k"} {
		ok, code := admit(auth, "k")
		assert.False(t, ok, auth)
		assert.Equal(t, http.StatusUnauthorized, code, auth)
	}
}
