//go:build pkcs11

// This file gives qs-jwt --cert-privatekey-pkcs11 through the module
// github.com/qsjwt/qsjwt/pkcs11, which needs cgo and has a go.mod of its
// own so that the qsjwt module stays pure Go. It is a file of package cli
// (internal/cli, the command line of qs-jwt and qs-jwt-net):
// scripts/build-qs-jwt-pkcs11.sh adds it there with the overlay
// pkcs11/qs-jwt-overlay.json, in the workspace pkcs11/qs-jwt.work (the main
// module does not require this one), with the tag pkcs11, which leaves out
// internal/cli/pkcs11_none.go. It lives here, not in internal/cli, so that
// `go mod tidy` in the main module never looks for this module.

package cli

import (
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/pkcs11"
)

// openPKCS11 opens the key uri names; pin, when not empty, is the token's
// PIN from --passphrase-env (else the URI's pin-source or pin-value).
// Signing gives up at the signing call's deadline, since a PKCS #11 call
// cannot be interrupted.
func openPKCS11(uri, pin string) (qsjwt.Signer, func() error, error) {
	var opts []pkcs11.Option
	if pin != "" {
		opts = append(opts, pkcs11.WithPIN(pin))
	}
	key, err := pkcs11.Open(uri, opts...)
	if err != nil {
		return nil, nil, Failf("--cert-privatekey-pkcs11", "%s", strings.TrimPrefix(err.Error(), "qsjwt/pkcs11: "))
	}
	return qsjwt.SignerWithDeadline(key.Signer()), key.Close, nil
}
