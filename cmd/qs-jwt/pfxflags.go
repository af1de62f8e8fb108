package main

import (
	"flag"

	"github.com/qsjwt/qsjwt"
)

// pfxFlags give a command that reads a certificate (decode, idp-config)
// the one in a PFX file, with its password.
type pfxFlags struct{ file, passEnv string }

func (p *pfxFlags) add(fs *flag.FlagSet, usage string) {
	fs.StringVar(&p.file, "cert-privatekey-pfx", "", usage)
	fs.StringVar(&p.passEnv, "passphrase-env", "", "with --cert-privatekey-pfx: name of the environment `variable` holding the PFX's password")
}

// check refuses --cert-privatekey-pfx with another flag that gives the key
// (others, by name) and --passphrase-env without it.
func (p *pfxFlags) check(fs *flag.FlagSet, others ...string) error {
	for _, name := range others {
		if given(fs, name) && given(fs, "cert-privatekey-pfx") {
			return usagef("--cert-privatekey-pfx", "--%s and --cert-privatekey-pfx both give the key; give one", name)
		}
	}
	if given(fs, "passphrase-env") && !given(fs, "cert-privatekey-pfx") {
		return usagef("--passphrase-env", "--passphrase-env gives the password of a PFX (--cert-privatekey-pfx)")
	}
	return nil
}

// certificatePEM returns the PFX's certificate as PEM.
func (p *pfxFlags) certificatePEM(e *env) ([]byte, error) {
	k := &keyFlags{passEnv: p.passEnv}
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
