package qsjwt

import "time"

// This file gives the package's tests hooks that are not public API.

// certClockOption sets the clock a certificate's validity starts from.
type certClockOption func() time.Time

func (o certClockOption) applyCert(c *certConfig) { c.now = o }

// withCertificateClock makes SelfSignedCertificate start the validity at
// now() (NotBefore is a minute earlier), so tests can check exact dates.
func withCertificateClock(now func() time.Time) CertificateOption { return certClockOption(now) }
