package session

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// front is a fault-injecting http.Handler in front of an emulator, served
// over loopback: it forwards every request to the emulator unless its fault
// answers it. A fault may call next itself to change the emulator's answer.
type front struct {
	URL  string
	next http.Handler

	mu       sync.Mutex
	fault    func(w http.ResponseWriter, r *http.Request, next http.Handler) bool // true: answered
	paths    map[string]int                                                       // requests seen, by path
	bearers  []string                                                             // Authorization headers seen
	requests int
}

// newFront starts a front for the emulator at target, reached through rt.
func newFront(t testing.TB, target string, rt http.RoundTripper) *front {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	f := &front{paths: map[string]int{}}
	f.next = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }, Transport: rt}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths[r.URL.Path]++
	f.requests++
	if a := r.Header.Get("Authorization"); a != "" {
		f.bearers = append(f.bearers, a)
	}
	fault := f.fault
	f.mu.Unlock()
	if fault != nil && fault(w, r, f.next) {
		return
	}
	f.next.ServeHTTP(w, r)
}

// set installs fault (nil: none).
func (f *front) set(fault func(w http.ResponseWriter, r *http.Request, next http.Handler) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fault
}

// seen returns how many requests for path the front has seen.
func (f *front) seen(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paths[path]
}

// total returns how many requests the front has seen.
func (f *front) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// qlikAnswer writes a Qlik-shaped error answer, with Retry-After when
// retryAfter is not empty.
func qlikAnswer(w http.ResponseWriter, status int, code, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"errors":[{"code":"` + code + `","title":"` + http.StatusText(status) + `","detail":"injected by the test","status":"` + strconv.Itoa(status) + `"}]}`))
}

// withoutSetCookie serves r with next and drops every Set-Cookie from its
// answer, as a misbehaving intermediary would.
func withoutSetCookie(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		if k != "Set-Cookie" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// once returns a fault that applies fault to the first n requests it
// matches (match nil: every request) and then lets requests through.
func once(n int, match func(*http.Request) bool, fault func(w http.ResponseWriter, r *http.Request, next http.Handler)) func(http.ResponseWriter, *http.Request, http.Handler) bool {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if match != nil && !match(r) {
			return false
		}
		mu.Lock()
		hit := n > 0
		n--
		mu.Unlock()
		if hit {
			fault(w, r, next)
		}
		return hit
	}
}

// elsewhere is a second server that records the requests it gets.
type elsewhere struct {
	URL string
	mu  sync.Mutex
	got []*http.Request
}

func newElsewhere(t testing.TB) *elsewhere {
	e := &elsewhere{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.got = append(e.got, r.Clone(r.Context()))
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

func (e *elsewhere) requests() []*http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*http.Request(nil), e.got...)
}

// redirectTo answers with status and a Location on target.
func redirectTo(status int, target string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Location", target+"/landing")
		w.WriteHeader(status)
	}
}

func pathIs(p string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Path == p }
}

// authorizations returns the Authorization headers the front has seen.
func (f *front) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bearers...)
}
