package cli

// This file signs with a key the CLI never sees: --sign-command runs a
// command (openssl with a key on a smart card, pkcs11-tool, a cloud KMS
// CLI) that reads what to sign on stdin and prints the raw signature.
//
// The command line is run by the shell (sh -c on Unix, cmd /C on Windows),
// not split by qs-jwt: a KMS CLI's output usually has to be piped through
// base64 -d, and a PIN is best read from an environment variable the shell
// expands ("--pin env:HSM_PIN" or "$HSM_PIN"), so that it is on no command
// line. The command line is never printed: it may hold a PIN.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// Defaults and limits of --sign-command.
const (
	defaultSignTimeout = 30 * time.Second
	maxSignTimeout     = 10 * time.Minute
	maxSignatureOutput = 64 << 10 // an RSA-16384 signature is 2 KiB
)

// signCommand signs by running a command. It is a qsjwt.Signer through
// digestCommand (--sign-input digest: the command gets the hash) or
// messageCommand (the default: the command gets the JWS signing input and
// hashes it itself, the SignMessage upgrade of qsjwt.Signer). The library
// checks every signature it returns against pub before it makes a token.
type signCommand struct {
	line    string // never printed: it may hold a PIN
	timeout time.Duration
	pub     *rsa.PublicKey
	stderr  io.Writer // the command's stderr passes through to it
}

// digestCommand is a signCommand that is given the digest.
type digestCommand struct{ *signCommand }

// messageCommand is a signCommand that is given the signing input.
type messageCommand struct{ *signCommand }

var (
	_ qsjwt.Signer = digestCommand{}
	_ qsjwt.Signer = messageCommand{}
	_ interface {
		SignMessage(context.Context, []byte, crypto.Hash) ([]byte, error)
	} = messageCommand{}
)

func (c *signCommand) Public() crypto.PublicKey { return c.pub }

// Format prints what the signer is, never the command line.
func (c *signCommand) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "--sign-command signer (RSA-%d)", c.pub.N.BitLen())
}

func (c digestCommand) SignDigest(ctx context.Context, digest []byte, _ crypto.Hash) ([]byte, error) {
	return c.run(ctx, digest)
}

// SignDigest is never called: the library prefers SignMessage.
func (c messageCommand) SignDigest(context.Context, []byte, crypto.Hash) ([]byte, error) {
	return nil, &signCommandError{"was asked for a digest, which it is not given without --sign-input digest"}
}

func (c messageCommand) SignMessage(ctx context.Context, message []byte, _ crypto.Hash) ([]byte, error) {
	return c.run(ctx, message)
}

// signCommandError is a failure of the command itself, as opposed to a
// signature that does not verify (which the library finds). Its text
// follows "the --sign-command".
type signCommandError struct{ msg string }

func (e *signCommandError) Error() string { return "the --sign-command " + e.msg }

// run runs the command with input on stdin and returns what it printed on
// stdout, which must be a signature of the key's size.
func (c *signCommand) run(ctx context.Context, input []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := shellCommand(ctx, c.line)
	cmd.Stdin = bytes.NewReader(input)
	out := &cappedBuffer{max: maxSignatureOutput}
	cmd.Stdout = out
	cmd.Stderr = c.stderr
	cmd.WaitDelay = 2 * time.Second // a child that keeps stdout open after the kill
	err := cmd.Run()
	size := c.pub.Size()
	var exitErr *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &signCommandError{fmt.Sprintf("did not finish within %s and was stopped; raise --sign-timeout if the HSM or KMS is slow", c.timeout)}
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 127:
		return nil, &signCommandError{"failed (exit status 127: the shell did not find the command); check its name and PATH"}
	case errors.As(err, &exitErr):
		return nil, &signCommandError{fmt.Sprintf("failed (%s); its own messages, if any, are above", exitErr.ProcessState)}
	case err != nil:
		return nil, &signCommandError{fmt.Sprintf("could not be run: %v", errors.Unwrap(err))}
	case out.over:
		return nil, &signCommandError{fmt.Sprintf("printed more than %d KiB on stdout; it must print only the raw %d-byte signature", maxSignatureOutput>>10, size)}
	case out.Len() == 0:
		return nil, &signCommandError{fmt.Sprintf("printed nothing on stdout; it must print the raw %d-byte signature", size)}
	case out.Len() != size:
		return nil, &signCommandError{wrongSize(out.Bytes(), size, c.pub.N.BitLen())}
	}
	return out.Bytes(), nil
}

// wrongSize explains output that is not a signature of size bytes, without
// repeating it: text longer than a signature may be one in base64 or hex.
func wrongSize(out []byte, size, bits int) string {
	switch {
	case len(out) <= size:
	case hexText.Match(out):
		return fmt.Sprintf("printed %d bytes of hex text, not the raw %d-byte signature: decode it in the command, e.g. | xxd -r -p", len(out), size)
	case base64Text.Match(out):
		return fmt.Sprintf("printed %d bytes of base64 text, not the raw %d-byte signature: decode it in the command, e.g. | base64 -d", len(out), size)
	}
	return fmt.Sprintf("printed %d bytes on stdout, not the %d-byte signature an RSA-%d key makes; it must print the raw signature alone", len(out), size, bits)
}

// cappedBuffer keeps the first max bytes written to it and notes more.
type cappedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		p = p[:max(room, 0)]
	}
	b.Buffer.Write(p)
	return len(p), nil
}

// publicKeyForDevice reads the public key of a key that lives elsewhere (an
// HSM, a KMS) from a certificate or public key PEM. A key Qlik cannot use is
// refused with advice that fits its origin: create a new key in the HSM or
// KMS, not with keygen.
func publicKeyForDevice(data []byte, flag string) (*rsa.PublicKey, error) {
	pub, err := qsjwt.ParsePublicKey(data)
	if err != nil {
		if raw := rawPublicKey(data); raw != nil {
			// The library's key rule, with the advice for a key in a device.
			if _, derr := qsjwt.NewQSEoW(qsjwt.SignerFunc(raw, nil)); derr != nil {
				return nil, Failf(flag, "%s", strings.TrimPrefix(trimLib(derr.Error()), "signer: "))
			}
		}
		if errors.Is(err, qsjwt.ErrUnsupportedKey) {
			return nil, Failf(flag, "the key in %s is of a type Qlik cannot use (%s); Qlik needs RSA: create an RSA key of at least %d bits in the HSM or KMS and sign with it",
				flag, unsupportedKind(err), qsjwt.MinRSABits)
		}
		return nil, LibError(err, flag, nil)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		_, derr := qsjwt.NewQSEoW(qsjwt.SignerFunc(pub, nil))
		return nil, LibError(derr, flag, nil)
	}
	return rsaPub, nil
}

// unsupportedKind names the key type of the library's unsupported-key
// error, without its advice, which is for a key in a file.
func unsupportedKind(err error) string {
	msg := err.Error()
	if _, kind, ok := strings.Cut(msg, "unsupported key type: "); ok {
		kind, _, _ = strings.Cut(kind, ";")
		return kind
	}
	return "an unsupported key"
}

// rawPublicKey is the public key in the first certificate or public key
// block of data, read without qsjwt's rules, or nil.
func rawPublicKey(data []byte) crypto.PublicKey {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return nil
		}
		switch b.Type {
		case "CERTIFICATE":
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				return c.PublicKey
			}
		case "PUBLIC KEY":
			if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
				return k
			}
		case "RSA PUBLIC KEY":
			if k, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
				return k
			}
		}
	}
}

// signerError explains the library's refusal to sign with a --sign-command
// key: the command failed, or its signature does not verify with the
// public key given. Other errors it returns as they are.
func signerError(err error, alg qsjwt.Algorithm, digest bool) error {
	input := fmt.Sprintf("the message on its stdin, which it must hash with %v", alg.Hash())
	if digest {
		input = fmt.Sprintf("the %v digest on its stdin (--sign-input digest)", alg.Hash())
	}
	var ce *signCommandError
	switch {
	case errors.As(err, &ce):
		return Failf("--sign-command", "%s", ce.Error())
	case errors.Is(err, qsjwt.ErrSigner):
		return Failf("--sign-command", "the signature the --sign-command printed does not verify with the key in --cert-publickey-file: "+
			"the command signs with another key, or does not make an %s signature (RSA PKCS #1 v1.5) of %s", alg, input)
	}
	return nil
}
