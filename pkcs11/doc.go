// Package pkcs11 signs Qlik tokens with an RSA key that never leaves a
// PKCS #11 token (an HSM, a smart card, SoftHSM2).
//
// [Open] takes an RFC 7512 URI that names the module, the token and the key,
// and where the PIN comes from:
//
//	key, err := pkcs11.Open("pkcs11:token=qlik;object=jwt?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin")
//	...
//	defer key.Close()
//	q, err := qsjwt.NewQSEoW(key.Signer())
//
// A [Key] is a crypto.Signer and a crypto.MessageSigner, so it works with
// anything that takes one (qsjwt.SignerFromCrypto, crypto/x509). Through
// [Key.Signer] it is a qsjwt.Signer whose SignMessage lets the token hash
// and sign (CKM_SHA256_RSA_PKCS …), for keys whose policy forbids raw RSA.
// It finds its key again after a token restart, a logout or a lost session,
// and refuses to sign if the key it finds then is another one.
//
// This package is a Go module of its own because it needs cgo and a PKCS #11
// library at run time; the qsjwt module stays pure Go. It binds PKCS #11
// through github.com/miekg/pkcs11.
//
// No value or error of this package prints the PIN.
package pkcs11
