package main

import "golang.org/x/sys/unix"

// threadClock is the CPU time of the calling thread in nanoseconds.
func threadClock() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}
