package cli

import (
	"crypto"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt"
)

// maxInput caps what the CLI reads from a file or stdin: keys, certificates
// and tokens are a few KiB.
const maxInput = 1 << 20

// ReadInput reads the file at path, or stdin when path is "-", refusing more
// than maxInput bytes. flag names the flag that gave path, for errors.
func (e *Env) ReadInput(flag, path string) ([]byte, error) {
	r := e.Stdin
	if path != "-" {
		f, err := openInput(path)
		if err != nil {
			return nil, Failf(flag, "cannot read %s: %v", shownPath(flag, path), errors.Unwrap(err))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return nil, Failf(flag, "%s is a directory; give a file", shownPath(flag, path))
		}
		r = f
	}
	// shownPath (it says "stdin" for -) only on an error: it stats the path.
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, Failf(flag, "cannot read %s: %v", shownPath(flag, path), err)
	}
	if len(data) > maxInput {
		return nil, Failf(flag, "%s is larger than 1 MiB; give a key, certificate or token, which is a few KiB", shownPath(flag, path))
	}
	return data, nil
}

// KeyFlags are the flags that give the create commands their signing key:
// exactly one of --cert-privatekey-file, --cert-privatekey-env,
// --cert-privatekey, --cert-privatekey-pfx, --sign-command,
// --cert-privatekey-pkcs11 and --cert-create.
type KeyFlags struct {
	file, text, envVar string
	pfx                string // --cert-privatekey-pfx
	passEnv            string
	source             string // the key flag given, set by check
	Create             bool
	prefix             string
	days               int
	force              bool
	sign               signFlags
	pkcs11URI          string // never printed: it may hold pin-value
}

func (k *KeyFlags) Add(fs *flag.FlagSet) {
	fs.StringVar(&k.file, "cert-privatekey-file", "", "PEM private key `file` that signs the token; - reads stdin")
	fs.StringVar(&k.envVar, "cert-privatekey-env", "", "name of the environment `variable` holding the PEM private key (literal \\n allowed); best for CI secrets")
	fs.StringVar(&k.text, "cert-privatekey", "", "the PEM private key itself (visible to other users in ps; prefer --cert-privatekey-env)")
	fs.StringVar(&k.pfx, "cert-privatekey-pfx", "", "PFX (PKCS #12) `file` holding the key and its certificate, as the QMC exports it; its password from --passphrase-env")
	fs.StringVar(&k.passEnv, "passphrase-env", "", "name of the environment `variable` holding the passphrase of an encrypted private key, the PFX's password, or the PKCS #11 token's PIN")
	k.sign.add(fs)
	fs.StringVar(&k.pkcs11URI, "cert-privatekey-pkcs11", "", "RFC 7512 `URI` of a key in an HSM or smart card (pkcs11:token=...;object=...?module-path=...); needs a qs-jwt built with PKCS #11 support")
	fs.BoolVar(&k.Create, "cert-create", false, "make a new RSA-3072 key and self-signed certificate, write them as keygen does, and sign with them")
	fs.StringVar(&k.prefix, "cert-file-prefix", "", "with --cert-create: `prefix` of the key file names (a directory with a trailing /, or a name prefix)")
	fs.IntVar(&k.days, "cert-create-expires-days", 1825, "with --cert-create: `days` the certificate is valid")
	fs.BoolVar(&k.force, "force", false, "with --cert-create: overwrite existing key files")
}

// keyFlagNames lists the key flags for errors.
const keyFlagNames = "--cert-privatekey-file F, --cert-privatekey-env VAR, --cert-privatekey PEM, --cert-privatekey-pfx F, --sign-command CMD, --cert-privatekey-pkcs11 URI or --cert-create"

// keySources are the flags that give a key, --cert-create aside.
var keySources = []string{"cert-privatekey-file", "cert-privatekey-env", "cert-privatekey", "cert-privatekey-pfx", "sign-command", "cert-privatekey-pkcs11"}

// Check refuses a command line that gives no key or more than one, or gives
// flags that only one key source uses without it.
func (k *KeyFlags) Check(fs *flag.FlagSet) error {
	var sources []string
	for _, name := range keySources {
		if Given(fs, name) {
			sources = append(sources, "--"+name)
		}
	}
	if k.Create {
		sources = append(sources, "--cert-create")
	}
	switch {
	case len(sources) == 0:
		return Usagef("--cert-privatekey-file", "no signing key; give one of %s", keyFlagNames)
	case len(sources) > 1:
		return Usagef(sources[1], "%s give the signing key twice; give only one of %s", strings.Join(sources, " and "), keyFlagNames)
	case k.Create && k.passEnv != "":
		return Usagef("--passphrase-env", "--passphrase-env reads an existing key; --cert-create makes an unencrypted one")
	case sources[0] == "--sign-command" && k.passEnv != "":
		return Usagef("--passphrase-env", "--passphrase-env is not used with --sign-command: the command reads its own PIN or credentials (e.g. from a variable the shell expands)")
	}
	if !k.Create {
		for _, name := range []string{"cert-file-prefix", "cert-create-expires-days", "force"} {
			if Given(fs, name) {
				return Usagef("--cert-create", "--%s is used only with --cert-create", name)
			}
		}
	}
	if err := k.sign.check(fs, sources[0]); err != nil {
		return err
	}
	k.source = sources[0]
	return nil
}

// SigningKey is the key the key flags give.
type SigningKey struct {
	Signer  qsjwt.Signer
	flag    string        // the flag that gave it, for errors
	made    *newKey       // with --cert-create: the new key, not yet written
	digest  bool          // --sign-input digest
	timeout time.Duration // a PKCS #11 key: --sign-timeout
	close   func() error
}

// Load returns the key the key flags give. With --cert-create it makes a new
// key and certificate in memory; the command writes them (finish) once the
// token is signed, so that a refused claim leaves no files behind.
func (k *KeyFlags) Load(e *Env) (*SigningKey, error) {
	if k.Create {
		const flag = "--cert-create"
		nk, err := makeKey(qsjwt.RSA3072, k.days, "qs-jwt", flag, "--cert-create-expires-days")
		if err != nil {
			return nil, err
		}
		s, err := qsjwt.SignerFromCrypto(nk.key)
		if err != nil {
			return nil, LibError(err, flag, nil)
		}
		return &SigningKey{Signer: s, flag: flag, made: nk}, nil
	}
	switch k.source {
	case "--sign-command":
		return k.sign.load(e)
	case "--cert-privatekey-pkcs11":
		return k.loadPKCS11(e)
	}
	opts, err := k.passphrase(e)
	if err != nil {
		return nil, err
	}
	var (
		s    qsjwt.Signer
		flag = k.source
	)
	switch {
	case flag == "--cert-privatekey-pfx":
		return k.loadPFX(e, opts)
	case flag == "--cert-privatekey-env" && k.envVar == "":
		return nil, Usagef(flag, "--cert-privatekey-env is empty; give the name of the environment variable that holds the key")
	case flag == "--cert-privatekey-env":
		v := e.Getenv(k.envVar)
		if v == "" {
			return nil, Failf(flag, "%s is empty or not set; put the PEM private key in it", ShownVar(flag, k.envVar))
		}
		s, err = qsjwt.SignerFromPEM([]byte(v), opts...)
	case flag == "--cert-privatekey":
		e.warnf("--cert-privatekey puts the private key on the command line, where other users can read it (ps, /proc, shell history); use --cert-privatekey-env VAR instead")
		s, err = qsjwt.SignerFromPEM([]byte(k.text), opts...)
	case k.file == "":
		return nil, Usagef(flag, "--cert-privatekey-file is empty; give the path of the private key file")
	default:
		// The CLI reads the file itself, so that its errors name the path
		// only as shownPath allows (SignerFromPEMFile's repeat it).
		data, rerr := e.ReadInput(flag, k.file)
		if rerr != nil {
			return nil, rerr
		}
		s, err = qsjwt.SignerFromPEM(data, opts...)
	}
	if err != nil {
		return nil, keyError(err, flag, k)
	}
	return &SigningKey{Signer: s, flag: flag}, nil
}

// Finish writes a key made with --cert-create, refusing to overwrite unless
// --force, and tells the user where it is; for other keys it does nothing.
func (k *KeyFlags) Finish(e *Env, sk *SigningKey) error {
	if sk.close != nil {
		if err := sk.close(); err != nil {
			e.warnf("closing the key of %s: %s", sk.flag, trimLib(err.Error()))
		}
	}
	if sk.made == nil {
		return nil
	}
	if err := sk.made.write(k.prefix, k.force); err != nil {
		return err
	}
	if !e.quiet() {
		sk.made.print(e.Stderr)
	}
	return nil
}

// keyError explains a private key the library refused, naming the flag that
// fixes it; for an encrypted key that is --passphrase-env.
func keyError(err error, flag string, k *KeyFlags) error {
	switch {
	case errors.Is(err, qsjwt.ErrEncryptedKey):
		return Failf("--passphrase-env", "the private key is encrypted; put its passphrase in an environment variable and name it with --passphrase-env, or decrypt the key once with `openssl pkey -in enc.pem -out key.pem`")
	case errors.Is(err, qsjwt.ErrWrongPassphrase):
		return Failf("--passphrase-env", "the passphrase in %s does not decrypt the private key (or the key is damaged); check the passphrase", ShownVar("--passphrase-env", k.passEnv))
	case flag == "--cert-privatekey" && k.text != "" && !strings.Contains(k.text, "-----BEGIN"):
		return Failf(flag, "--cert-privatekey takes the PEM text itself, and %s has no -----BEGIN line: give a file with --cert-privatekey-file, or a variable's NAME with --cert-privatekey-env", describe(k.text))
	}
	return LibError(err, flag, nil)
}

// rsaType maps keygen's --bits to the library's key types.
func rsaType(bits int) (qsjwt.KeyType, bool) {
	switch bits {
	case 2048:
		return qsjwt.RSA2048, true
	case 3072:
		return qsjwt.RSA3072, true
	case 4096:
		return qsjwt.RSA4096, true
	}
	return 0, false
}

// maxDays keeps a certificate's validity a sane duration (100 years).
const maxDays = 36500

// newKey is a key keygen or --cert-create made and wrote.
type newKey struct {
	key   crypto.Signer
	cert  *x509.Certificate
	files qsjwt.KeyFiles
	kid   string // RFC 7638 thumbprint
}

// makeKey makes a key of type t and a self-signed certificate for it valid
// for days, in memory. It is keygen's work, shared with --cert-create;
// mainFlag and daysFlag name the flags that asked for it, for errors.
func makeKey(t qsjwt.KeyType, days int, cn, mainFlag, daysFlag string) (*newKey, error) {
	if days <= 0 || days > maxDays {
		return nil, Usagef(daysFlag, "%s %d is out of range; give 1 to %d days", daysFlag, days, maxDays)
	}
	key, err := qsjwt.GenerateKey(t)
	if err != nil {
		return nil, LibError(err, mainFlag, nil)
	}
	cert, err := qsjwt.SelfSignedCertificate(key, qsjwt.WithCommonName(cn),
		qsjwt.WithValidity(time.Duration(days)*24*time.Hour))
	if err != nil {
		return nil, certError(err, mainFlag, daysFlag)
	}
	kid, err := qsjwt.Thumbprint(key.Public())
	if err != nil {
		return nil, LibError(err, mainFlag, nil)
	}
	return &newKey{key: key, cert: cert, kid: kid}, nil
}

// write writes the key files with prefix, refusing to overwrite existing
// ones unless force.
func (k *newKey) write(prefix string, force bool) error {
	files, err := qsjwt.WriteKeyFiles(prefix, k.key, k.cert, force)
	switch {
	case errors.Is(err, fs.ErrExist):
		return Failf("--force", "%s", trimLib(err.Error()))
	case err != nil:
		return Failf("--cert-file-prefix", "%s", trimLib(err.Error()))
	}
	k.files = files
	return nil
}

// print writes what was made, one "name: value" line each.
func (k *newKey) print(w io.Writer) {
	fmt.Fprintf(w, "private key: %s (mode 0600: keep it secret)\n", k.files.PrivateKey)
	fmt.Fprintf(w, "public key:  %s\n", k.files.PublicKey)
	fmt.Fprintf(w, "certificate: %s (self-signed, SHA-256, CN=%s, valid until %s; give it to Qlik)\n",
		k.files.Certificate, k.cert.Subject.CommonName, k.cert.NotAfter.UTC().Format(time.DateOnly))
	fmt.Fprintf(w, "key ID:      %s (RFC 7638 thumbprint; usable as the Qlik Cloud identity provider's Key ID)\n", k.kid)
}

// certError maps the library's certificate option errors to flags: a
// refused option is a usage error (exit 2) naming the flag of daysFlag's
// command; anything else a failure of mainFlag's work.
func certError(err error, mainFlag, daysFlag string) error {
	column := createFlag
	if daysFlag == "--days" {
		column = keygenFlag
	}
	var out []error
	for _, e := range flatten(err) {
		var oe *qsjwt.OptionError
		if errors.As(e, &oe) {
			if flag := column(optionFlagsOf(oe.Option)); flag != "" {
				out = append(out, Usagef(flag, "%s", oe.Reason))
				continue
			}
		}
		out = append(out, Failf(mainFlag, "%s", trimLib(e.Error())))
	}
	return errors.Join(out...)
}
