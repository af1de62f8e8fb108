//go:build !pkcs11

package cli

import "github.com/qsjwt/qsjwt"

// openPKCS11 is the hook that pkcs11/clihook/pkcs11.go fills in a qs-jwt
// built by scripts/build-qs-jwt-pkcs11.sh; this build has no PKCS #11
// support.
func openPKCS11(string, string) (qsjwt.Signer, func() error, error) {
	return nil, nil, Failf("--cert-privatekey-pkcs11", "this qs-jwt was built without PKCS #11 support: build it with "+
		"scripts/build-qs-jwt-pkcs11.sh in a clone of qsjwt (cgo; see the README), "+
		"or sign with --sign-command and pkcs11-tool")
}
