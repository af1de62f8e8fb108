package session

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultLoginsPerMinute is Qlik Cloud's login rate limit per tenant.
const DefaultLoginsPerMinute = 100

// LoginBudget is a tenant's allowance of logins in this process: at most
// Logins login attempts in any window of Per. Give the same budget to every
// [Cloud] of one tenant ([WithLoginBudget]); a login that would overspend it
// is not sent, and its callers get a [*BackoffError] (cause
// [ErrLoginBudget]) saying when the budget allows the next.
//
// It is a token bucket that holds Logins tokens and gets each one back Per
// after it was taken (a sliding window): a bucket refilled at a steady rate
// could admit twice Logins in one window, which Qlik would refuse. Keep it
// somewhat below the tenant's limit when other processes log in too. It is
// safe for concurrent use.
type LoginBudget struct {
	logins int
	per    time.Duration

	mu     sync.Mutex
	taken  []time.Time // when the tokens in use were taken, oldest first
	denied int64
}

// NewLoginBudget returns a budget of logins login attempts per window per,
// e.g. NewLoginBudget(DefaultLoginsPerMinute, time.Minute) for Qlik Cloud.
func NewLoginBudget(logins int, per time.Duration) (*LoginBudget, error) {
	if logins <= 0 || per <= 0 {
		return nil, fmt.Errorf("%w: NewLoginBudget(%d, %s): give a positive number of logins and window, such as NewLoginBudget(%d, time.Minute)", ErrSession, logins, per, DefaultLoginsPerMinute)
	}
	return &LoginBudget{logins: logins, per: per}, nil
}

// take spends a token at now, or reports when the next one comes back.
func (b *LoginBudget) take(now time.Time) (ok bool, next time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cut := 0
	for cut < len(b.taken) && !now.Before(b.taken[cut].Add(b.per)) {
		cut++
	}
	b.taken = b.taken[cut:]
	if len(b.taken) >= b.logins {
		b.denied++
		return false, b.taken[0].Add(b.per)
	}
	b.taken = append(b.taken, now)
	return true, time.Time{}
}

// BudgetStats are a [LoginBudget]'s counts.
type BudgetStats struct {
	// InUse is how many logins the current window holds; Denied how many
	// logins the budget has refused since it was made.
	InUse, Denied int64
}

// Stats returns the budget's counts.
func (b *LoginBudget) Stats() BudgetStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetStats{InUse: int64(len(b.taken)), Denied: b.denied}
}

func (b *LoginBudget) String() string {
	return fmt.Sprintf("session.LoginBudget(%d per %s)", b.logins, b.per)
}

// Back-off after a refused login: exponential from the first step, doubled
// per refusal in a row up to the cap, with jitter (the wait is drawn from
// the upper half of the step). A refusal Qlik will repeat (a token it
// refuses, a login that sets no cookie) waits longer than a failure that
// may pass (5xx, 429, a network error, a timeout). Retry-After is honoured
// when longer.
const (
	transientFirst = time.Second
	transientCap   = time.Minute
	refusedFirst   = 30 * time.Second
	refusedCap     = 10 * time.Minute
)

// backoff returns how long to wait after the fails-th refusal in a row,
// err being the last.
func backoff(err error, fails int) time.Duration {
	step, limit := transientFirst, transientCap
	var qe *QlikError
	isQlik := errors.As(err, &qe)
	if isQlik && qe.StatusCode/100 == 4 && qe.StatusCode != 429 || errors.Is(err, ErrNoSessionCookie) {
		step, limit = refusedFirst, refusedCap
	}
	for i := 1; i < fails && step < limit; i++ {
		step *= 2
	}
	step = min(step, limit)
	d := step/2 + rand.N(step/2+1)
	if isQlik && qe.RetryAfter > d {
		d = qe.RetryAfter
	}
	return d
}
