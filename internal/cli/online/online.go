// Package online holds the qs-jwt commands that talk to Qlik (setup, doctor,
// oauth-token) or build its admin API's bodies (idp-config), through the
// packages provision and session and so net/http. They are linked only into
// cmd/qs-jwt-net: cmd/qs-jwt runs that program for them, so that creating
// a token starts without initialising an HTTP client (see cli.Main).
package online

import "github.com/qsjwt/qsjwt/internal/cli"

// Commands returns the online commands, for cli.Main.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: "oauth-token", Run: runOAuthToken},
		{Name: "idp-config", Run: runIdPConfig},
		{Name: "setup", Run: runSetup},
		{Name: "doctor", Run: runDoctor},
	}
}
