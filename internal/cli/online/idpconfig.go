package online

import (
	"github.com/qsjwt/qsjwt/internal/cli"

	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/provision"
)

func runIdPConfig(e *cli.Env, args []string) error {
	fs := cli.NewFlagSet("idp-config")
	var (
		certFile, issuer, keyid string
		jwk                     bool
		pfx                     cli.PFXFlags
	)
	fs.StringVar(&certFile, "cert-file", "", "the certificate `file` of the signing key (publickey.cer); - reads stdin (required, or --cert-privatekey-pfx)")
	pfx.Add(fs, "a PFX (PKCS #12) `file` holding the key and its certificate, as the QMC exports it, instead of --cert-file")
	fs.StringVar(&issuer, "issuer", "", "the `issuer` your tokens carry in \"iss\" (required without --jwk)")
	fs.StringVar(&keyid, "keyid", "", "the key `ID` your tokens carry in \"kid\" (default: the key's RFC 7638 thumbprint, as --cert-create uses)")
	fs.BoolVar(&jwk, "jwk", false, "print only the public key as a JSON Web Key (kid: --keyid or the thumbprint), e.g. to register a Qlik Cloud OAuth client")
	if err := e.Parse(fs, args, "idp-config (--cert-file publickey.cer | --cert-privatekey-pfx F) (--issuer I | --jwk) [--keyid K]",
		"Prints on stdout the JSON body of POST https://<tenant>/api/v1/identity-providers that creates the\n"+
			"Qlik Cloud JWT identity provider for this certificate, ready to send; and on stderr the fields to\n"+
			"paste into a client-managed Qlik Sense (QSEoW) virtual proxy with JWT authentication. With --jwk it\n"+
			"prints the certificate's public key as a JSON Web Key instead."); err != nil {
		return err
	}
	errs := []error{pfx.Check(fs, "cert-file")}
	if !cli.Given(fs, "cert-file") && !cli.Given(fs, "cert-privatekey-pfx") {
		errs = append(errs, cli.Usagef("--cert-file", "idp-config needs the certificate file (publickey.cer), or the PFX with --cert-privatekey-pfx"))
	}
	if !jwk {
		errs = append(errs, cli.Required(fs, [2]string{"issuer", "the issuer your tokens carry (or --jwk for the key alone)"}))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	cert, certFlag, err := idpCertificate(e, certFile, &pfx)
	if err != nil {
		return err
	}
	if !cli.Given(fs, "keyid") {
		if keyid, err = qsjwt.Thumbprint(cert.PublicKey); err != nil {
			return cli.LibError(err, certFlag, nil)
		}
	}
	if jwk {
		data, err := cli.PublicJWK(cert.PublicKey, keyid, certFlag)
		if err != nil {
			return err
		}
		e.Stdout.Write(data)
		e.Infof("The certificate's public key as a JSON Web Key (kid %s), for a Qlik Cloud OAuth client that signs with this key.", cli.Quote(keyid))
		return nil
	}
	// The library's Cloud builder checks the issuer, the key ID and that the
	// certificate's key can sign what Qlik Cloud checks: nothing is signed.
	noSign := func(context.Context, []byte, crypto.Hash) ([]byte, error) {
		return nil, errors.New("idp-config signs nothing")
	}
	if _, err := qsjwt.NewCloud(qsjwt.SignerFunc(cert.PublicKey, noSign), issuer, keyid); err != nil {
		return cli.LibError(err, certFlag, nil)
	}
	pem := string(qsjwt.CertificatePEM(cert))
	// The same body qs-jwt setup cloud sends: single-line PEM, interactive,
	// active, description, jwtLoginEnabled, Qlik Cloud's default tolerance.
	idp, err := provision.NewJWTIdP(issuer, keyid, cert, "", 0)
	if err != nil {
		return cli.Failf("--issuer", "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	body, err := json.MarshalIndent(idp, "", "  ")
	if err != nil {
		return cli.Failf(certFlag, "encoding the JSON: %v", err)
	}
	fmt.Fprintf(e.Stdout, "%s\n", body)

	e.Infof("Qlik Cloud: send the JSON above as a tenant admin, e.g.\n"+
		"  qs-jwt idp-config ... | curl -X POST \"https://<tenant>/api/v1/identity-providers\" \\\n"+
		"    -H \"Authorization: Bearer $QLIK_API_KEY\" -H \"Content-Type: application/json\" --data-binary @-\n"+
		"then create tokens with: qs-jwt create-qscloud --issuer %q --keyid %q ...\n", issuer, keyid)
	e.Infof("QSEoW virtual proxy (QMC > Virtual proxies > Authentication):\n"+
		"  Authentication method:            JWT\n"+
		"  JWT attribute for user ID:        userId (create-qseow --userid-claim)\n"+
		"  JWT attribute for user directory: userDirectory (create-qseow --userdir-claim)\n"+
		"  JWT audience:                     empty, or the value of create-qseow --audience\n"+
		"  JWT certificate:                  paste these lines, BEGIN and END included:\n%s", pem)
	return nil
}

// idpCertificate reads idp-config's certificate, from --cert-file or from
// the PFX of --cert-privatekey-pfx, and returns it with the flag that gave
// it.
func idpCertificate(e *cli.Env, certFile string, pfx *cli.PFXFlags) (*x509.Certificate, string, error) {
	flag, data, err := "--cert-file", []byte(nil), error(nil)
	if pfx.Given() || certFile == "" {
		flag = "--cert-privatekey-pfx"
		data, err = pfx.CertificatePEM(e)
	} else {
		data, err = e.ReadInput(flag, certFile)
	}
	if err != nil {
		return nil, "", err
	}
	cert, err := qsjwt.ParseCertificate(data)
	if err != nil {
		return nil, "", cli.LibError(err, flag, nil)
	}
	return cert, flag, nil
}
