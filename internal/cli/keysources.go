package cli

// This file reads the keys that do not come as PEM text: a PFX file, a
// command that signs (--sign-command), a key in a PKCS #11 token.

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/qsjwt/qsjwt"
)

// passphrase returns the key option of --passphrase-env, if given.
func (k *KeyFlags) passphrase(e *Env) ([]qsjwt.KeyOption, error) {
	if k.passEnv == "" {
		return nil, nil
	}
	p := e.Getenv(k.passEnv)
	if p == "" {
		return nil, Failf("--passphrase-env", "%s is empty or not set; give the NAME of the variable that holds the passphrase", ShownVar("--passphrase-env", k.passEnv))
	}
	return []qsjwt.KeyOption{qsjwt.WithPassphrase([]byte(p))}, nil
}

// loadPFX reads the key of --cert-privatekey-pfx.
func (k *KeyFlags) loadPFX(e *Env, opts []qsjwt.KeyOption) (*SigningKey, error) {
	const flag = "--cert-privatekey-pfx"
	key, _, err := k.readPFX(e, flag, k.pfx, opts)
	if err != nil {
		return nil, err
	}
	s, err := qsjwt.SignerFromCrypto(key)
	if err != nil {
		return nil, LibError(err, flag, nil)
	}
	return &SigningKey{Signer: s, flag: flag}, nil
}

// readPFX reads the PFX file path gives, for flag, with its password from
// --passphrase-env.
func (k *KeyFlags) readPFX(e *Env, flag, path string, opts []qsjwt.KeyOption) (crypto.Signer, *x509.Certificate, error) {
	if path == "" {
		return nil, nil, Usagef(flag, "%s is empty; give the path of the PFX file", flag)
	}
	data, err := e.ReadInput(flag, path)
	if err != nil {
		return nil, nil, err
	}
	key, cert, err := qsjwt.ParsePKCS12(data, opts...)
	switch {
	case errors.Is(err, qsjwt.ErrEncryptedKey):
		return nil, nil, Failf("--passphrase-env", "the PFX is protected by a password: put it in an environment variable and name the variable with --passphrase-env")
	case errors.Is(err, qsjwt.ErrWrongPassphrase):
		return nil, nil, Failf("--passphrase-env", "the password in %s does not open the PFX (or the file is damaged); check the password", ShownVar("--passphrase-env", k.passEnv))
	case err != nil:
		return nil, nil, LibError(err, flag, nil)
	}
	return key, cert, nil
}

// signFlags are --sign-command and the flags that go with it.
type signFlags struct {
	command, input, timeout, publicFile string
}

func (s *signFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&s.command, "sign-command", "", "`command` that signs, for a key in an HSM or KMS: run by sh -c with what to sign on stdin, it prints the raw signature on stdout (never printed back: it may hold a PIN)")
	s.input = "message"
	fs.Var(&ChoiceValue{v: &s.input, choices: []string{"message", "digest"}}, "sign-input",
		"with --sign-command: `what` the command reads: message (the JWS signing input, which it hashes) or digest (the raw hash)")
	fs.StringVar(&s.timeout, "sign-timeout", defaultSignTimeout.String(), "with --sign-command or --cert-privatekey-pkcs11: the `time` signing may take, e.g. 30s or 2m")
	fs.StringVar(&s.publicFile, "cert-publickey-file", "", "with --sign-command (required): the certificate or public key `file` (PEM) of the command's key; every signature is checked against it")
}

// check refuses the flags that go with --sign-command without it, and
// --sign-command without its public key.
func (s *signFlags) check(fs *flag.FlagSet, source string) error {
	used := source == "--sign-command"
	if Given(fs, "sign-timeout") && !used && source != "--cert-privatekey-pkcs11" {
		return Usagef("--sign-timeout", "--sign-timeout is used only with --sign-command or --cert-privatekey-pkcs11")
	}
	if d, err := time.ParseDuration(s.timeout); err != nil || d <= 0 || d > maxSignTimeout {
		return Usagef("--sign-timeout", "--sign-timeout %s is not a duration from 1ms to %s, e.g. 30s or 2m", describe(s.timeout), maxSignTimeout)
	}
	if !used {
		for _, name := range []string{"sign-input", "cert-publickey-file"} {
			if Given(fs, name) {
				return Usagef("--sign-command", "--%s is used only with --sign-command", name)
			}
		}
		return nil
	}
	if !Given(fs, "cert-publickey-file") {
		return Usagef("--cert-publickey-file", "--sign-command needs the certificate or public key of its key in --cert-publickey-file, to check the signatures it prints")
	}
	if s.command == "" {
		return Usagef("--sign-command", "--sign-command is empty; give the command that signs")
	}
	return nil
}

// load reads the public key of --sign-command's key and returns its signer.
func (s *signFlags) load(e *Env) (*SigningKey, error) {
	const flag = "--cert-publickey-file"
	data, err := e.ReadInput(flag, s.publicFile)
	if err != nil {
		return nil, err
	}
	pub, err := publicKeyForDevice(data, flag)
	if err != nil {
		return nil, err
	}
	timeout, _ := time.ParseDuration(s.timeout) // check refused a bad one
	c := &signCommand{line: s.command, timeout: timeout, pub: pub, stderr: e.Stderr}
	sk := &SigningKey{flag: "--sign-command", digest: s.input == "digest"}
	if sk.digest {
		sk.Signer = digestCommand{c}
	} else {
		sk.Signer = messageCommand{c}
	}
	return sk, nil
}

// loadPKCS11 opens the key of --cert-privatekey-pkcs11, in a qs-jwt built
// with PKCS #11 support (see pkcs11.go).
func (k *KeyFlags) loadPKCS11(e *Env) (*SigningKey, error) {
	const flag = "--cert-privatekey-pkcs11"
	if k.pkcs11URI == "" {
		return nil, Usagef(flag, "%s is empty; give the key's pkcs11: URI", flag)
	}
	pin := ""
	if k.passEnv != "" {
		if pin = e.Getenv(k.passEnv); pin == "" {
			return nil, Failf("--passphrase-env", "%s is empty or not set; give the NAME of the variable that holds the token's PIN", ShownVar("--passphrase-env", k.passEnv))
		}
	}
	s, closeKey, err := openPKCS11(k.pkcs11URI, pin)
	if err != nil {
		return nil, err
	}
	timeout, _ := time.ParseDuration(k.sign.timeout) // check refused a bad one
	return &SigningKey{Signer: s, flag: flag, close: closeKey, timeout: timeout}, nil
}

// explain turns the library's refusal to build or sign with sk into
// problems naming the flags that fix them: for --sign-command, whether the
// command failed or its signature is bad.
func (sk *SigningKey) explain(err error, alg qsjwt.Algorithm, renames map[string]string) error {
	if errors.Is(err, context.DeadlineExceeded) && sk.timeout > 0 {
		return Failf(sk.flag, "the key did not sign within %s and qs-jwt gave up (the HSM may be hung or slow); raise --sign-timeout if it is slow", sk.timeout)
	}
	if sk.flag == "--sign-command" {
		if serr := signerError(err, alg, sk.digest); serr != nil {
			return serr
		}
	}
	return LibError(err, sk.flag, renames)
}

// Context is the Context of a signing call: with a deadline of
// --sign-timeout for a PKCS #11 key, whose calls the library abandons at
// the deadline (the --sign-command signer has its own).
func (sk *SigningKey) Context() (context.Context, context.CancelFunc) {
	if sk.timeout > 0 {
		return context.WithTimeout(context.Background(), sk.timeout)
	}
	return context.WithCancel(context.Background())
}

// String names the key's source, never the key.
func (sk *SigningKey) String() string { return fmt.Sprintf("key from %s", sk.flag) }
