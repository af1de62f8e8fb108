// Command qs-jwt-net is qs-jwt with the commands that talk to Qlik: setup,
// doctor and oauth-token, and idp-config, which builds the body of Qlik
// Cloud's identity-provider API. qs-jwt runs it for those commands; install
// it beside qs-jwt. It also runs every other qs-jwt command.
//
//	qs-jwt-net setup cloud --tenant https://example.eu.qlikcloud.com --issuer my-issuer --cert-file publickey.cer
//	qs-jwt-net doctor qseow --server https://qlik.example.com --prefix jwt --userdir CORP --userid anna --cert-privatekey-file privatekey.pem
//
//go:debug updatemaxprocs=0
package main

import (
	"os"

	"github.com/qsjwt/qsjwt/internal/cli"
	"github.com/qsjwt/qsjwt/internal/cli/online"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, online.Commands()))
}
