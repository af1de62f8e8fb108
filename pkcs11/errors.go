package pkcs11

import (
	"errors"

	ck "github.com/miekg/pkcs11"
)

// Errors to match with errors.Is. None of them, nor any error of this
// package, holds a PIN. Key type and size problems wrap qsjwt.ErrKey
// instead, so that they match what the root package says about keys.
var (
	// ErrURI: the pkcs11: URI is malformed or names an unknown attribute.
	ErrURI = errors.New("qsjwt/pkcs11: bad PKCS #11 URI")
	// ErrPIN: no PIN, more than one PIN, an unreadable pin-source, or a PIN
	// the token refused.
	ErrPIN = errors.New("qsjwt/pkcs11: PIN")
	// ErrModule: the PKCS #11 library cannot be loaded or initialised.
	ErrModule = errors.New("qsjwt/pkcs11: module")
	// ErrNotFound: no token or no private key matches the URI, or more than
	// one does.
	ErrNotFound = errors.New("qsjwt/pkcs11: not found")
	// ErrKeyChanged: after a reconnection the key found by the URI has
	// another public key than the one the Key was opened with; the signer
	// refuses to sign with it.
	ErrKeyChanged = errors.New("qsjwt/pkcs11: key changed")
	// ErrClosed: the Key was closed.
	ErrClosed = errors.New("qsjwt/pkcs11: key closed")
)

// What a failed PKCS #11 call asks for.
type recovery int

const (
	noRecovery   recovery = iota // the error is the answer (wrong mechanism, bad data, …)
	newSession                   // sessions or object handles are stale: reconnect
	reinitModule                 // the library lost its state: initialise it again
	resetModule                  // the device failed: finalise, initialise, reconnect
)

// classify says how to recover from err.
func classify(err error) recovery {
	var code ck.Error
	if !errors.As(err, &code) {
		return noRecovery
	}
	switch code {
	case ck.CKR_SESSION_HANDLE_INVALID, ck.CKR_SESSION_CLOSED, ck.CKR_OBJECT_HANDLE_INVALID,
		ck.CKR_KEY_HANDLE_INVALID, ck.CKR_USER_NOT_LOGGED_IN, ck.CKR_OPERATION_ACTIVE,
		ck.CKR_SESSION_COUNT:
		return newSession
	case ck.CKR_CRYPTOKI_NOT_INITIALIZED:
		return reinitModule
	case ck.CKR_DEVICE_ERROR, ck.CKR_DEVICE_REMOVED, ck.CKR_TOKEN_NOT_PRESENT,
		ck.CKR_TOKEN_NOT_RECOGNIZED, ck.CKR_SLOT_ID_INVALID, ck.CKR_GENERAL_ERROR:
		return resetModule
	}
	return noRecovery
}

// sessionGone says whether err means the session no longer exists.
func sessionGone(err error) bool {
	return errors.Is(err, ck.Error(ck.CKR_SESSION_HANDLE_INVALID)) || errors.Is(err, ck.Error(ck.CKR_SESSION_CLOSED))
}
