package qsjwt

import "io"

// withRandom returns a copy of c that reads the jti's random bytes from r:
// the test-only replacement of crypto/rand (Qlik refuses a reused jti, so
// no program should have this).
func withRandom(c *Cloud, r io.Reader) *Cloud {
	cp := *c
	cp.cfg.random = r
	return &cp
}
