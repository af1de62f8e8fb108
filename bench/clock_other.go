//go:build !linux

package main

import "time"

// threadClock falls back to the wall clock where the thread's CPU time is
// not read.
func threadClock() int64 { return time.Now().UnixNano() }
