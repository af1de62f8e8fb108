package sharedcall

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitersGetTheRunnersResult(t *testing.T) {
	c := New[int]()
	release := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Go(func() {
			v, again, err := c.Wait(context.Background())
			require.NoError(t, err)
			assert.False(t, again)
			results[i] = v
		})
	}
	var recorded int
	go c.Run(func() (int, error) { <-release; return 42, nil }, func(v int, _ error) { recorded = v })
	close(release)
	wg.Wait()
	assert.Equal(t, 42, recorded)
	for _, v := range results {
		assert.Equal(t, 42, v)
	}
}

func TestAWaiterLeavesAtItsOwnDeadline(t *testing.T) {
	c := New[int]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, again, err := c.Wait(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, again)
	_, err = c.WaitDetached(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTheRunnersCancellationIsNotTheWaiters(t *testing.T) {
	c := New[int]()
	c.Run(func() (int, error) { return 0, context.Canceled }, func(int, error) {})
	_, again, err := c.Wait(context.Background())
	assert.NoError(t, err)
	assert.True(t, again, "try again rather than take another caller's cancellation")
	_, err = c.WaitDetached(context.Background())
	assert.ErrorIs(t, err, context.Canceled, "a detached waiter takes the call's own result")
}

func TestAPanicStillWakesTheWaiters(t *testing.T) {
	c := New[int]()
	var got error
	func() {
		defer func() { _ = recover() }()
		c.Run(func() (int, error) { panic("boom") }, func(_ int, err error) { got = err })
	}()
	assert.ErrorIs(t, got, errUnfinished)
	_, again, err := c.Wait(context.Background())
	assert.False(t, again)
	assert.True(t, errors.Is(err, errUnfinished))
}
