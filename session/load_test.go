package session

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
)

// Load figures: users × goroutines × calls through each client, with the
// sessions ended on the server halfway, over loopback through the fault
// injector. The figures are logged (go test -v -run TestLoadFigures); the
// test requires one login or proxy session per user per server-side loss,
// no failed call and no goroutine left behind.
const (
	loadUsers      = 4
	loadGoroutines = 8
	loadCalls      = 10
)

func TestLoadFiguresCloud(t *testing.T) {
	r, f := newCloudFront(t, qliktest.CloudConfig{})
	base := &http.Transport{}
	before := runtime.NumGoroutine()
	sessions := make([]*Cloud, loadUsers)
	for i := range sessions {
		sessions[i] = r.frontSession(t, f, r.cloud.TokenSource(cloudUser(fmt.Sprint("u", i))), WithBaseTransport(base))
	}
	run := func() {
		var wg sync.WaitGroup
		for i, s := range sessions {
			c := s.Client()
			for g := range loadGoroutines {
				wg.Go(func() {
					for k := range loadCalls {
						if (g+k)%4 == 0 {
							status, _ := space(t, c, f.URL, "s")
							assert.Equal(t, http.StatusCreated, status)
						} else {
							assert.Equal(t, fmt.Sprint("sub-u", i), me(t, c, f.URL))
						}
					}
				})
			}
		}
		wg.Wait()
	}
	run()
	r.tenant.ExpireSessions() // every session lost on the server
	run()
	base.CloseIdleConnections()
	r.tenant.Client().Transport.(*http.Transport).CloseIdleConnections() // the front's, to the tenant
	for i := range sessions {
		assert.Equal(t, 2, r.tenant.Logins(fmt.Sprint("sub-u", i)), "one login per user, and one more after the loss")
	}
	assert.Equal(t, 2*loadUsers, r.tenant.LoginAttempts())
	after := settle(t, before)
	t.Logf("Cloud: %d users × %d goroutines × %d calls × 2 rounds = %d calls; %d requests at the tenant; logins per user %d (one per round); %d CSRF fetches; goroutines %d before, %d after",
		loadUsers, loadGoroutines, loadCalls, 2*loadUsers*loadGoroutines*loadCalls, f.total(), r.tenant.Logins()/loadUsers, r.tenant.CSRFTokenFetches(), before, after)
}

func TestLoadFiguresQSEoW(t *testing.T) {
	r := newQSEoWRig(t, qliktest.QSEoWConfig{PlainHTTP: true})
	f := newFront(t, r.proxy.URL, r.proxy.Client().Transport)
	base := &http.Transport{}
	before := runtime.NumGoroutine()
	transports := make([]*QSEoWTransport, loadUsers)
	for i := range transports {
		tr, err := NewQSEoWTransport(f.URL+"/jwt", r.source(qsjwt.QSEoWUser{UserDirectory: "DIR", UserID: fmt.Sprint("u", i)}), WithBaseTransport(base), WithClock(r.clock.Now))
		require.NoError(t, err)
		transports[i] = tr
	}
	run := func() {
		var wg sync.WaitGroup
		for _, tr := range transports {
			c := tr.Client()
			for range loadGoroutines {
				wg.Go(func() {
					for range loadCalls {
						assert.Equal(t, http.StatusOK, about(t, c, f.URL+"/jwt"))
					}
				})
			}
		}
		wg.Wait()
	}
	run()
	r.proxy.ExpireSessions() // a proxy restart
	run()
	base.CloseIdleConnections()
	r.proxy.Client().Transport.(*http.Transport).CloseIdleConnections() // the front's, to the proxy
	for i := range transports {
		assert.Equal(t, 2, r.proxy.SessionsOpened(fmt.Sprint(`DIR\u`, i)), "one session per user, and one more after the restart")
	}
	assert.Equal(t, 0, r.proxy.SessionLimitRefusals())
	var alone, requests int64
	for _, tr := range transports {
		alone += tr.Stats().Alone
		requests += tr.Stats().Requests
	}
	after := settle(t, before)
	t.Logf("QSEoW: %d users × %d goroutines × %d calls × 2 rounds = %d calls; %d requests (%d retried after the restart, %d sent alone); sessions per user %d (one per round); %d signatures; goroutines %d before, %d after",
		loadUsers, loadGoroutines, loadCalls, 2*loadUsers*loadGoroutines*loadCalls, requests, requests-int64(2*loadUsers*loadGoroutines*loadCalls), alone,
		r.proxy.SessionsOpened()/loadUsers, r.signs.Load(), before, after)
}

// settle waits until the goroutines of closed connections have left, and
// returns the count; it fails the test if more than before remain.
func settle(t *testing.T, before int) int {
	t.Helper()
	for range 1000 { // at most 10 s: closed connections' goroutines leave at once
		if runtime.NumGoroutine() <= before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	n := runtime.NumGoroutine()
	assert.LessOrEqual(t, n, before, "goroutines left behind")
	return n
}
