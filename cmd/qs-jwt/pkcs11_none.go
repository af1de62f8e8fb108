//go:build !pkcs11

package main

import "github.com/qsjwt/qsjwt"

// pkcs11Build says whether this qs-jwt can open PKCS #11 keys.
const pkcs11Build = false

// openPKCS11 is the hook a qs-jwt built with the pkcs11 tag fills (see
// pkcs11.go); this build has no PKCS #11 support.
func openPKCS11(string, string) (qsjwt.Signer, func() error, error) {
	return nil, nil, failf("--cert-privatekey-pkcs11", "this qs-jwt was built without PKCS #11 support: build it with "+
		"`GOWORK=$PWD/pkcs11/qs-jwt.work CGO_ENABLED=1 go build -tags 'pkcs11 ignore' ./cmd/qs-jwt` in a clone of qsjwt (see the README), "+
		"or sign with --sign-command and pkcs11-tool")
}
