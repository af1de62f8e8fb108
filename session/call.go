package session

import (
	"context"
	"errors"
)

// call is one piece of work that concurrent callers share: the first runs
// it, the others wait for its result.
type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newCall[T any]() *call[T] { return &call[T]{done: make(chan struct{})} }

// run runs fn, hands its result to record (which stores it under the
// owner's lock), and then wakes the waiters, also when fn panics.
func (c *call[T]) run(fn func() (T, error), record func(T, error)) {
	c.err = errors.New("session: shared call did not finish")
	defer func() {
		record(c.val, c.err)
		close(c.done)
	}()
	c.val, c.err = fn()
}

// waitDetached waits for c, which runs under a context of its own, or for
// ctx: the caller leaves at its own deadline and c carries on.
func (c *call[T]) waitDetached(ctx context.Context) (T, error) {
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
