package session

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// userTable holds one session per user, drops the ones unused for idle and
// keeps at most max: the proxy's memory is bounded whatever the number of
// users.
type userTable struct {
	idle time.Duration
	max  int
	now  func() time.Time

	mu    sync.Mutex
	m     map[string]*userEntry
	swept time.Time // the last sweep for idle sessions
}

type userEntry struct {
	up   upstream
	fp   string // the user's other fields: a change makes a new session
	used time.Time
}

func newUserTable(idle time.Duration, max int, now func() time.Time) *userTable {
	return &userTable{idle: idle, max: max, now: now, m: map[string]*userEntry{}}
}

// get returns key's session, making one with open when there is none, it
// has been idle too long, or the user's fields (fp) changed.
func (t *userTable) get(key, fp string, open func() (upstream, error)) (upstream, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.swept) >= t.idle/4 {
		t.swept = now
		for k, e := range t.m {
			if now.Sub(e.used) >= t.idle {
				delete(t.m, k)
			}
		}
	}
	if e := t.m[key]; e != nil && e.fp == fp && now.Sub(e.used) < t.idle {
		e.used = now
		return e.up, nil
	}
	up, err := open() // makes a session; it sends nothing
	if err != nil {
		return nil, err
	}
	if _, ok := t.m[key]; !ok && len(t.m) >= t.max {
		oldest := ""
		for k, e := range t.m {
			if oldest == "" || e.used.Before(t.m[oldest].used) {
				oldest = k
			}
		}
		delete(t.m, oldest)
	}
	t.m[key] = &userEntry{up: up, fp: fp, used: now}
	return up, nil
}

func (t *userTable) drop(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *userTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// writeProblem answers with the JSON body {"error": …, "check": …} that
// the proxy and the token handlers send for their own refusals: what went
// wrong, and what to check.
func writeProblem(w http.ResponseWriter, status int, msg, check string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg, "check": check})
}
