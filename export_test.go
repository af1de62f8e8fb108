package qsjwt

import (
	"io"
	"time"
)

// This file gives the package's tests hooks that are not public API.

// withRandom returns a copy of c that reads the jti's random bytes from r:
// the test-only replacement of crypto/rand (Qlik refuses a reused jti, so
// no program should have this).
func withRandom(c *Cloud, r io.Reader) *Cloud {
	cp := *c
	cp.cfg.random = r
	return &cp
}

// certClockOption sets the clock a certificate's validity starts from.
type certClockOption func() time.Time

func (o certClockOption) applyCert(c *certConfig) { c.now = o }

// withCertificateClock makes SelfSignedCertificate start the validity at
// now() (NotBefore is a minute earlier), so tests can check exact dates.
func withCertificateClock(now func() time.Time) CertificateOption { return certClockOption(now) }
