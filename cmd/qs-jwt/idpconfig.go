package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/provision"
)

func runIdPConfig(e *env, args []string) error {
	fs := newFlagSet("idp-config")
	var certFile, issuer, keyid string
	fs.StringVar(&certFile, "cert-file", "", "the certificate `file` of the signing key (publickey.cer); - reads stdin (required)")
	fs.StringVar(&issuer, "issuer", "", "the `issuer` your tokens carry in \"iss\" (required)")
	fs.StringVar(&keyid, "keyid", "", "the key `ID` your tokens carry in \"kid\" (default: the key's RFC 7638 thumbprint, as --cert-create uses)")
	if err := e.parse(fs, args, "idp-config --cert-file publickey.cer --issuer I [--keyid K]",
		"Prints on stdout the JSON body of POST https://<tenant>/api/v1/identity-providers that creates the\n"+
			"Qlik Cloud JWT identity provider for this certificate, ready to send; and on stderr the fields to\n"+
			"paste into a client-managed Qlik Sense (QSEoW) virtual proxy with JWT authentication."); err != nil {
		return err
	}
	if err := required(fs, [2]string{"cert-file", "the certificate file (publickey.cer)"}, [2]string{"issuer", "the issuer your tokens carry"}); err != nil {
		return err
	}
	data, err := e.readInput("--cert-file", certFile)
	if err != nil {
		return err
	}
	cert, err := qsjwt.ParseCertificate(data)
	if err != nil {
		return libError(err, "--cert-file", nil)
	}
	if !given(fs, "keyid") {
		if keyid, err = qsjwt.Thumbprint(cert.PublicKey); err != nil {
			return libError(err, "--cert-file", nil)
		}
	}
	// The library's Cloud builder checks the issuer, the key ID and that the
	// certificate's key can sign what Qlik Cloud checks: nothing is signed.
	noSign := func(context.Context, []byte, crypto.Hash) ([]byte, error) {
		return nil, errors.New("idp-config signs nothing")
	}
	if _, err := qsjwt.NewCloud(qsjwt.SignerFunc(cert.PublicKey, noSign), issuer, keyid); err != nil {
		return libError(err, "--cert-file", nil)
	}
	pem := string(qsjwt.CertificatePEM(cert))
	// The same body qs-jwt setup cloud sends: single-line PEM, interactive,
	// active, description, jwtLoginEnabled, Qlik Cloud's default tolerance.
	idp, err := provision.NewJWTIdP(issuer, keyid, cert, "", 0)
	if err != nil {
		return failf("--issuer", "%s", strings.TrimPrefix(err.Error(), "provision: "))
	}
	body, err := json.MarshalIndent(idp, "", "  ")
	if err != nil {
		return failf("--cert-file", "encoding the JSON: %v", err)
	}
	fmt.Fprintf(e.stdout, "%s\n", body)

	e.infof("Qlik Cloud: send the JSON above as a tenant admin, e.g.\n"+
		"  qs-jwt idp-config ... | curl -X POST \"https://<tenant>/api/v1/identity-providers\" \\\n"+
		"    -H \"Authorization: Bearer $QLIK_API_KEY\" -H \"Content-Type: application/json\" --data-binary @-\n"+
		"then create tokens with: qs-jwt create-qscloud --issuer %q --keyid %q ...\n", issuer, keyid)
	e.infof("QSEoW virtual proxy (QMC > Virtual proxies > Authentication):\n"+
		"  Authentication method:            JWT\n"+
		"  JWT attribute for user ID:        userId (create-qseow --userid-claim)\n"+
		"  JWT attribute for user directory: userDirectory (create-qseow --userdir-claim)\n"+
		"  JWT audience:                     empty, or the value of create-qseow --audience\n"+
		"  JWT certificate:                  paste these lines, BEGIN and END included:\n%s", pem)
	return nil
}
