package cli

import (
	"fmt"

	"github.com/qsjwt/qsjwt"
)

func runKeygen(e *Env, args []string) error {
	fs := NewFlagSet("keygen")
	var (
		typ, cn, prefix string
		bits, days      int
		force, jwk      bool
	)
	fs.Var(&ChoiceValue{v: &typ, choices: []string{"rsa", "ec"}}, "type", "key `type`: rsa (what Qlik checks) or ec (ECDSA P-256, not for Qlik tokens)")
	typ = "rsa"
	fs.IntVar(&bits, "bits", 3072, "RSA key size: 2048, 3072 or 4096")
	fs.IntVar(&days, "days", 1825, "`days` the self-signed certificate is valid")
	fs.StringVar(&cn, "cn", "qs-jwt", "the certificate's common `name`")
	fs.StringVar(&prefix, "cert-file-prefix", "", "`prefix` of the file names: a directory with a trailing /, or a name prefix")
	fs.BoolVar(&force, "force", false, "overwrite existing key files")
	fs.BoolVar(&jwk, "jwk", false, "also write the public key as a JSON Web Key, <P>publickey.jwk (kid: the thumbprint), e.g. for a Qlik Cloud OAuth client")
	if err := e.Parse(fs, args, "keygen [--type rsa|ec] [--bits 3072] [--days 1825] [--cn qs-jwt] [--cert-file-prefix P] [--jwk] [--force]",
		"Writes a new private key <P>privatekey.pem (PKCS #8, mode 0600), its public key <P>publickey.pem and a\n"+
			"SHA-256 self-signed certificate <P>publickey.cer, the file to give Qlik (with --jwk also the public\n"+
			"key as a JSON Web Key, <P>publickey.jwk). Existing files are not\n"+
			"overwritten without --force. Prints the paths and the key's RFC 7638 thumbprint, usable as the\n"+
			"Qlik Cloud identity provider's key ID (--keyid)."); err != nil {
		return err
	}
	t := qsjwt.ECDSAP256
	if typ == "rsa" {
		var ok bool
		if t, ok = rsaType(bits); !ok {
			return Usagef("--bits", "--bits %d is not offered; give 2048, 3072 or 4096", bits)
		}
	} else if Given(fs, "bits") {
		return Usagef("--bits", "--bits is for RSA keys; an EC key is P-256")
	} else if jwk {
		return Usagef("--jwk", "--jwk writes the JWK of an RSA key, the only kind Qlik takes; drop --type ec")
	}
	nk, err := makeKey(t, days, cn, "--type", "--days")
	if err != nil {
		return err
	}
	var jwkData []byte
	if jwk {
		if jwkData, err = PublicJWK(nk.key.Public(), nk.kid, "--jwk"); err != nil {
			return err
		}
		if err := checkJWKFree(jwkPath(prefix), force); err != nil {
			return err
		}
	}
	if err := nk.write(prefix, force); err != nil {
		return err
	}
	nk.print(e.Stdout)
	if jwk {
		if err := writeJWK(jwkPath(prefix), jwkData, force); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "JWK:         %s (the public key as a JSON Web Key, kid %s)\n", jwkPath(prefix), nk.kid)
	}
	if typ == "ec" {
		e.warnf("an EC key cannot sign tokens Qlik accepts: Qlik checks RS256, RS384 or RS512 signatures; use --type rsa for Qlik")
	}
	return nil
}
