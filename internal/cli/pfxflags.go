package cli

import (
	"flag"

	"github.com/qsjwt/qsjwt"
)

// PFXFlags give a command that reads a certificate (decode, idp-config)
// the one in a PFX file, with its password.
type PFXFlags struct{ file, passEnv string }

func (p *PFXFlags) Add(fs *flag.FlagSet, usage string) {
	fs.StringVar(&p.file, "cert-privatekey-pfx", "", usage)
	fs.StringVar(&p.passEnv, "passphrase-env", "", "with --cert-privatekey-pfx: name of the environment `variable` holding the PFX's password")
}

// Check refuses --cert-privatekey-pfx with another flag that gives the key
// (others, by name) and --passphrase-env without it.
func (p *PFXFlags) Check(fs *flag.FlagSet, others ...string) error {
	for _, name := range others {
		if Given(fs, name) && Given(fs, "cert-privatekey-pfx") {
			return Usagef("--cert-privatekey-pfx", "--%s and --cert-privatekey-pfx both give the key; give one", name)
		}
	}
	if Given(fs, "passphrase-env") && !Given(fs, "cert-privatekey-pfx") {
		return Usagef("--passphrase-env", "--passphrase-env gives the password of a PFX (--cert-privatekey-pfx)")
	}
	return nil
}

// CertificatePEM returns the PFX's certificate as PEM.
func (p *PFXFlags) CertificatePEM(e *Env) ([]byte, error) {
	k := &KeyFlags{passEnv: p.passEnv}
	opts, err := k.passphrase(e)
	if err != nil {
		return nil, err
	}
	_, cert, err := k.readPFX(e, "--cert-privatekey-pfx", p.file, opts)
	if err != nil {
		return nil, err
	}
	return qsjwt.CertificatePEM(cert), nil
}

// Given reports whether --cert-privatekey-pfx was given.
func (p *PFXFlags) Given() bool { return p.file != "" }
