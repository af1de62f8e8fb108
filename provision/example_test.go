package provision_test

import (
	"context"
	"fmt"

	"github.com/qsjwt/qsjwt/provision"
	"github.com/qsjwt/qsjwt/qliktest"
)

// Set a Qlik Cloud tenant up for JWT logins: plan, look, apply. A second
// plan finds everything in place.
func ExampleCloud_Plan() {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{APIKey: "test-only-api-key"})
	defer tenant.Close()

	admin, err := provision.NewCloud(tenant.URL, "test-only-api-key", tenant.Client())
	if err != nil {
		panic(err)
	}
	setup := provision.CloudSetup{Issuer: "my-app", KeyID: "key-2026", Certificate: tenant.Certificate, AutoCreateGroups: true}
	plan, err := admin.Plan(context.Background(), setup)
	if err != nil {
		panic(err)
	}
	for _, s := range plan.Steps {
		fmt.Println(s.Action, s.Object, s.Name)
	}
	if err := plan.Apply(context.Background()); err != nil {
		panic(err)
	}
	again, _ := admin.Plan(context.Background(), setup)
	fmt.Println("changes on a second run:", again.Changes())
	// Output:
	// create identity provider key-2026
	// update group settings autoCreateGroups
	// changes on a second run: 0
}

// Create a QSEoW virtual proxy with JWT authentication and link it to every
// proxy service, through the QRS API with the site's client certificate.
func ExampleQRS_Setup() {
	site := qliktest.NewSite(qliktest.SiteConfig{})
	defer site.Close()
	jwtKey := qliktest.NewQSEoW(qliktest.QSEoWConfig{}) // only for a certificate
	defer jwtKey.Close()

	qrs, err := provision.NewQRS(site.QRSURL, site.ClientCertPEM, site.ClientKeyPEM, site.RootCAs())
	if err != nil {
		panic(err)
	}
	plan, err := qrs.Setup(context.Background(), provision.VirtualProxy{Prefix: "jwt", Certificate: jwtKey.Certificate,
		AllowHosts: []string{"mashup.example.com"}})
	if err != nil {
		panic(err)
	}
	for _, s := range plan.Steps {
		fmt.Println(s.Action, s.Object, s.Name, s.Done)
	}
	// Output:
	// create virtual proxy jwt true
	// link proxy service central (central) true
	// link proxy service rim1 true
}
