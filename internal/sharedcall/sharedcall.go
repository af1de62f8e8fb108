// Package sharedcall runs one piece of work for concurrent callers: the
// first caller runs it, the others wait for its result. The caching token
// source (package qsjwt) and the session package's logins share it.
package sharedcall

import (
	"context"
	"errors"
)

// Call is one piece of work that concurrent callers share. Make it with
// [New], store it under the owner's lock, and run it once.
type Call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// New returns a call that has not run.
func New[T any]() *Call[T] { return &Call[T]{done: make(chan struct{})} }

// errUnfinished is the result of a call whose function panicked.
var errUnfinished = errors.New("shared call did not finish")

// Run runs fn, hands its result to record (which stores it under the
// owner's lock), and then wakes the waiters, also when fn panics. It
// returns fn's result.
func (c *Call[T]) Run(fn func() (T, error), record func(T, error)) (T, error) {
	c.err = errUnfinished
	defer func() {
		record(c.val, c.err)
		close(c.done)
	}()
	c.val, c.err = fn()
	return c.val, c.err
}

// Wait waits for c or for ctx. again reports that c failed only because the
// context of the caller that ran it ended while ctx has not: the caller
// should try again rather than take another caller's cancellation.
func (c *Call[T]) Wait(ctx context.Context) (v T, again bool, err error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return v, false, ctx.Err()
	}
	if c.err != nil && (errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded)) && ctx.Err() == nil {
		return v, true, nil
	}
	return c.val, false, c.err
}

// WaitDetached waits for c, which runs under a context of its own, or for
// ctx: the caller leaves at its own deadline and c carries on.
func (c *Call[T]) WaitDetached(ctx context.Context) (T, error) {
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
