package provision

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Cloud is a Qlik Cloud tenant's admin API, reached with a tenant admin's
// API key. Make one with [NewCloud]. Its String and formatting never show the
// key.
type Cloud struct {
	c      caller
	tenant string
}

// NewCloud returns the admin API of the tenant at tenantURL (https://…), using
// apiKey as the Bearer credential and client for the calls (nil means
// http.DefaultClient).
func NewCloud(tenantURL, apiKey string, client *http.Client) (*Cloud, error) {
	u, err := url.Parse(strings.TrimRight(tenantURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("provision: the tenant URL %q is not https://<tenant host>", tenantURL)
	}
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("provision: the API key is empty; give a tenant admin's API key")
	}
	if client == nil {
		client = http.DefaultClient
	}
	base := u.Scheme + "://" + u.Host
	return &Cloud{tenant: base, c: caller{base: base, client: client,
		auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }}}, nil
}

// String names the tenant, never the key.
func (c *Cloud) String() string { return "provision.Cloud(" + c.tenant + ")" }

// Format prints [Cloud.String] for every verb, so that %v, %+v and %#v
// never show the API key.
func (c *Cloud) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// DefaultClockTolerance is the identity provider's clockToleranceSec when
// CloudSetup.ClockTolerance is 0: Qlik Cloud's default.
const DefaultClockTolerance = 5 * time.Second

// CloudSetup is what [Cloud.Plan] makes true on a tenant.
type CloudSetup struct {
	// Issuer and KeyID are the tokens' "iss" and "kid"; Certificate holds
	// the public key of the signing key. Required.
	Issuer, KeyID string
	Certificate   *x509.Certificate
	// Description of the identity provider; "" means one naming qs-jwt.
	Description string
	// ClockTolerance is clockToleranceSec (0 to 2 h); 0 means 5 s.
	ClockTolerance time.Duration
	// Rotate allows a second JWT identity provider for the same issuer
	// under a new key ID. Without it, an issuer already served under another
	// key ID is an error: Qlik cannot change an identity provider's key.
	Rotate bool
	// RetireKeyID deletes the JWT identity provider of this key ID (and
	// Issuer) once the new one is in place.
	RetireKeyID string
	// AutoCreateGroups turns on group creation at login (PATCH
	// /api/v1/groups/settings), so that the "groups" claim reaches Qlik.
	AutoCreateGroups bool
	// AutoAssignLicense, "analyzer" or "professional", turns on licence
	// assignment at first login (PUT /api/v1/licenses/settings); "" leaves
	// the licence settings alone.
	AutoAssignLicense string
	// WebIntegration names a web integration allowing Origins (exact
	// origins; no wildcards). Both or neither.
	WebIntegration string
	Origins        []string
	// CSPOrigins are origins added to the tenant's Content Security Policy
	// (frame-ancestors), for pages that embed Qlik in an iframe.
	CSPOrigins []string
}

// JWTIdP is the body of POST /api/v1/identity-providers for a JWT identity
// provider, and the JWT part of what GET lists.
type JWTIdP struct {
	ID                string        `json:"id,omitempty"`
	Provider          string        `json:"provider"`
	Protocol          string        `json:"protocol"`
	Interactive       bool          `json:"interactive"`
	Active            bool          `json:"active"`
	Description       string        `json:"description"`
	ClockToleranceSec int           `json:"clockToleranceSec"`
	Options           JWTIdPOptions `json:"options"`
}

// JWTIdPOptions are the identity provider's JWT settings.
type JWTIdPOptions struct {
	Issuer          string      `json:"issuer"`
	StaticKeys      []StaticKey `json:"staticKeys"`
	JWTLoginEnabled bool        `json:"jwtLoginEnabled"`
}

// StaticKey is the identity provider's one key: its ID and certificate.
type StaticKey struct {
	KID string `json:"kid"`
	PEM string `json:"pem"`
}

// NewJWTIdP returns the identity provider body for a key: protocol jwtAuth,
// provider external, not interactive, active, jwtLoginEnabled, and the
// certificate as a single-line PEM. tolerance 0 means 5 s.
func NewJWTIdP(issuer, keyID string, cert *x509.Certificate, description string, tolerance time.Duration) (JWTIdP, error) {
	var errs []error
	if strings.TrimSpace(issuer) == "" {
		errs = append(errs, errors.New("provision: the issuer is empty; give the tokens' iss"))
	}
	if strings.TrimSpace(keyID) == "" {
		errs = append(errs, errors.New("provision: the key ID is empty; give the tokens' kid"))
	}
	if cert == nil {
		errs = append(errs, errors.New("provision: no certificate; give the signing key's certificate"))
	}
	if tolerance == 0 {
		tolerance = DefaultClockTolerance
	}
	if tolerance < 0 || tolerance > 2*time.Hour {
		errs = append(errs, fmt.Errorf("provision: clock tolerance %v is outside 0 to 2h", tolerance))
	}
	if err := errors.Join(errs...); err != nil {
		return JWTIdP{}, err
	}
	if description == "" {
		description = "JWT logins for issuer " + issuer + ", key " + keyID + " (qs-jwt)"
	}
	return JWTIdP{Provider: "external", Protocol: "jwtAuth", Interactive: false, Active: true,
		Description: description, ClockToleranceSec: int(tolerance / time.Second),
		Options: JWTIdPOptions{Issuer: issuer, JWTLoginEnabled: true,
			StaticKeys: []StaticKey{{KID: keyID, PEM: SingleLinePEM(cert)}}}}, nil
}

// SingleLinePEM returns the certificate's PEM without its final line break.
// Encoded in JSON its line breaks become \n escapes, so the pem field is one
// line, as Qlik's documentation asks ("replace the line breaks with \n").
func SingleLinePEM(cert *x509.Certificate) string {
	return strings.TrimSuffix(string(pemCert(cert)), "\n")
}

// samePEM reports whether a PEM text holds the certificate or its public key.
func samePEM(text string, cert *x509.Certificate) bool {
	b, _ := pem.Decode([]byte(strings.ReplaceAll(text, `\n`, "\n")))
	if b == nil {
		return false
	}
	switch b.Type {
	case "CERTIFICATE":
		return string(b.Bytes) == string(cert.Raw)
	case "PUBLIC KEY":
		return string(b.Bytes) == string(cert.RawSubjectPublicKeyInfo)
	}
	return false
}

// IdentityProviders lists the tenant's JWT identity providers (others are
// left out), following the pages.
func (c *Cloud) IdentityProviders(ctx context.Context) ([]JWTIdP, error) {
	var all []JWTIdP
	path := "/api/v1/identity-providers?limit=100"
	for range 100 {
		var page struct {
			Data  []JWTIdP `json:"data"`
			Links struct {
				Next *struct{ Href string } `json:"next"`
			} `json:"links"`
		}
		if err := c.c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		for _, p := range page.Data {
			if p.Protocol == "jwtAuth" {
				all = append(all, p)
			}
		}
		if page.Links.Next == nil || page.Links.Next.Href == "" {
			return all, nil
		}
		u, err := url.Parse(page.Links.Next.Href)
		if err != nil {
			return nil, fmt.Errorf("GET /api/v1/identity-providers: the next page link %q is not a URL", page.Links.Next.Href)
		}
		path = u.RequestURI()
	}
	return all, nil
}

// Plan reads the tenant and returns the steps that make it match s. It
// changes nothing.
func (c *Cloud) Plan(ctx context.Context, s CloudSetup) (*Plan, error) {
	want, err := NewJWTIdP(s.Issuer, s.KeyID, s.Certificate, s.Description, s.ClockTolerance)
	if err != nil {
		return nil, err
	}
	if s.RetireKeyID == s.KeyID && s.RetireKeyID != "" {
		return nil, fmt.Errorf("provision: the key ID to retire, %q, is the one being set up; retire the old key ID", s.KeyID)
	}
	if s.AutoAssignLicense != "" && s.AutoAssignLicense != "analyzer" && s.AutoAssignLicense != "professional" {
		return nil, fmt.Errorf("provision: licence type %q: give analyzer or professional", s.AutoAssignLicense)
	}
	if (s.WebIntegration == "") != (len(s.Origins) == 0) {
		return nil, errors.New("provision: a web integration needs both a name and its origins")
	}
	for _, o := range append(slices.Clone(s.Origins), s.CSPOrigins...) {
		if err := exactOrigin(o); err != nil {
			return nil, err
		}
	}
	idps, err := c.IdentityProviders(ctx)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	step, err := c.planIdP(idps, s, want)
	if err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, step)
	if s.RetireKeyID != "" {
		p.Steps = append(p.Steps, c.planRetire(idps, s.Issuer, s.RetireKeyID))
	}
	if s.AutoCreateGroups {
		step, err := c.planGroups(ctx)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, step)
	}
	if s.AutoAssignLicense != "" {
		step, err := c.planLicenses(ctx, s.AutoAssignLicense)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, step)
	}
	if s.WebIntegration != "" {
		step, err := c.planWebIntegration(ctx, s.WebIntegration, s.Origins)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, step)
	}
	for _, o := range s.CSPOrigins {
		step, err := c.planCSP(ctx, o)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, step)
	}
	return p, nil
}

// Setup plans and applies s, returning the plan with the steps done.
func (c *Cloud) Setup(ctx context.Context, s CloudSetup) (*Plan, error) {
	p, err := c.Plan(ctx, s)
	if err != nil {
		return nil, err
	}
	return p, p.Apply(ctx)
}

func (c *Cloud) planIdP(idps []JWTIdP, s CloudSetup, want JWTIdP) (Step, error) {
	step := Step{Object: "identity provider", Name: s.KeyID}
	var others []string
	for _, p := range idps {
		if p.Options.Issuer != s.Issuer || len(p.Options.StaticKeys) == 0 {
			continue
		}
		k := p.Options.StaticKeys[0]
		if k.KID != s.KeyID {
			if p.Active && k.KID != s.RetireKeyID { // retiring it in the same run is a swap
				others = append(others, k.KID)
			}
			continue
		}
		if !samePEM(k.PEM, s.Certificate) {
			return step, fmt.Errorf("provision: the tenant's JWT identity provider %s for issuer %q and key ID %q holds another certificate; "+
				"Qlik cannot change an identity provider's key: set the new key up under a new key ID with rotation, then retire %q",
				p.ID, s.Issuer, s.KeyID, s.KeyID)
		}
		step.Action, step.Detail = ActionKeep, fmt.Sprintf("JWT identity provider %s already has issuer %q, key ID %q and this certificate", p.ID, s.Issuer, s.KeyID)
		if !p.Active {
			step.Detail += " (inactive: activate it in the Management Console)"
		}
		return step, nil
	}
	if len(others) > 0 && !s.Rotate {
		return step, fmt.Errorf("provision: issuer %q is already served under key ID %s; to move to key ID %q add a second identity provider with rotation, then retire the old one",
			s.Issuer, strings.Join(others, ", "), s.KeyID)
	}
	step.Action = ActionCreate
	step.Detail = fmt.Sprintf("POST /api/v1/identity-providers: JWT identity provider for issuer %q, key ID %q, clockToleranceSec %d", s.Issuer, s.KeyID, want.ClockToleranceSec)
	if len(others) > 0 {
		step.Detail += fmt.Sprintf("; rotation: key ID %s stays valid until retired, switch signing to %q first", strings.Join(others, ", "), s.KeyID)
	}
	step.apply = func(ctx context.Context) (string, error) {
		var got JWTIdP
		if err := c.c.do(ctx, http.MethodPost, "/api/v1/identity-providers", want, &got); err != nil {
			return "", err
		}
		return step.Detail + "; created as " + got.ID, nil
	}
	return step, nil
}

func (c *Cloud) planRetire(idps []JWTIdP, issuer, kid string) Step {
	step := Step{Object: "identity provider", Name: kid, Action: ActionKeep,
		Detail: fmt.Sprintf("no JWT identity provider for issuer %q with key ID %q: nothing to retire", issuer, kid)}
	for _, p := range idps {
		if p.Options.Issuer == issuer && len(p.Options.StaticKeys) > 0 && p.Options.StaticKeys[0].KID == kid {
			id := p.ID
			step.Action = ActionDelete
			step.Detail = fmt.Sprintf("DELETE /api/v1/identity-providers/%s: tokens with key ID %q stop working", id, kid)
			step.apply = func(ctx context.Context) (string, error) {
				return "", c.c.do(ctx, http.MethodDelete, "/api/v1/identity-providers/"+url.PathEscape(id), nil, nil)
			}
			break
		}
	}
	return step
}

// RetireIdP deletes the JWT identity provider of issuer and key ID kid,
// returning the step (ActionKeep when there is none).
func (c *Cloud) RetireIdP(ctx context.Context, issuer, kid string) (Step, error) {
	idps, err := c.IdentityProviders(ctx)
	if err != nil {
		return Step{}, err
	}
	p := &Plan{Steps: []Step{c.planRetire(idps, issuer, kid)}}
	err = p.Apply(ctx)
	return p.Steps[0], err
}

func (c *Cloud) planGroups(ctx context.Context) (Step, error) {
	var cur struct {
		AutoCreateGroups bool `json:"autoCreateGroups"`
	}
	if err := c.c.do(ctx, http.MethodGet, "/api/v1/groups/settings", nil, &cur); err != nil {
		return Step{}, err
	}
	step := Step{Object: "group settings", Name: "autoCreateGroups", Action: ActionKeep, Detail: "group creation at login is on"}
	if !cur.AutoCreateGroups {
		step.Action, step.Detail = ActionUpdate, "PATCH /api/v1/groups/settings: turn group creation at login on, so the groups claim reaches Qlik"
		step.apply = func(ctx context.Context) (string, error) {
			return "", c.c.do(ctx, http.MethodPatch, "/api/v1/groups/settings",
				[]map[string]any{{"op": "replace", "path": "/autoCreateGroups", "value": true}}, nil)
		}
	}
	return step, nil
}

func (c *Cloud) planLicenses(ctx context.Context, kind string) (Step, error) {
	var cur map[string]any
	if err := c.c.do(ctx, http.MethodGet, "/api/v1/licenses/settings", nil, &cur); err != nil {
		return Step{}, err
	}
	field := "autoAssignAnalyzer"
	if kind == "professional" {
		field = "autoAssignProfessional"
	}
	step := Step{Object: "licence settings", Name: field, Action: ActionKeep, Detail: kind + " licences are assigned at first login"}
	if on, _ := cur[field].(bool); !on {
		body := map[string]any{"autoAssignAnalyzer": cur["autoAssignAnalyzer"] == true, "autoAssignProfessional": cur["autoAssignProfessional"] == true}
		body[field] = true
		step.Action, step.Detail = ActionUpdate, "PUT /api/v1/licenses/settings: assign "+kind+" licences at first login"
		step.apply = func(ctx context.Context) (string, error) {
			return "", c.c.do(ctx, http.MethodPut, "/api/v1/licenses/settings", body, nil)
		}
	}
	return step, nil
}

type webIntegration struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name"`
	ValidOrigins []string `json:"validOrigins"`
}

func (c *Cloud) planWebIntegration(ctx context.Context, name string, origins []string) (Step, error) {
	var list struct {
		Data []webIntegration `json:"data"`
	}
	if err := c.c.do(ctx, http.MethodGet, "/api/v1/web-integrations?limit=100", nil, &list); err != nil {
		return Step{}, err
	}
	step := Step{Object: "web integration", Name: name}
	for _, w := range list.Data {
		if w.Name != name {
			continue
		}
		if sameSet(w.ValidOrigins, origins) {
			step.Action, step.Detail = ActionKeep, fmt.Sprintf("web integration %s already allows %s", w.ID, strings.Join(origins, ", "))
			return step, nil
		}
		id := w.ID
		step.Action, step.Detail = ActionUpdate, fmt.Sprintf("PATCH /api/v1/web-integrations/%s: validOrigins %s", id, strings.Join(origins, ", "))
		step.apply = func(ctx context.Context) (string, error) {
			return "", c.c.do(ctx, http.MethodPatch, "/api/v1/web-integrations/"+url.PathEscape(id),
				[]map[string]any{{"op": "replace", "path": "/validOrigins", "value": origins}}, nil)
		}
		return step, nil
	}
	step.Action, step.Detail = ActionCreate, fmt.Sprintf("POST /api/v1/web-integrations: %q allowing %s", name, strings.Join(origins, ", "))
	step.apply = func(ctx context.Context) (string, error) {
		var got webIntegration
		if err := c.c.do(ctx, http.MethodPost, "/api/v1/web-integrations", webIntegration{Name: name, ValidOrigins: origins}, &got); err != nil {
			return "", err
		}
		return step.Detail + "; web integration ID " + got.ID + " (browsers send it as qlik-web-integration-id)", nil
	}
	return step, nil
}

func (c *Cloud) planCSP(ctx context.Context, origin string) (Step, error) {
	var list struct {
		Data []struct {
			ID     string `json:"id"`
			Origin string `json:"origin"`
		} `json:"data"`
	}
	if err := c.c.do(ctx, http.MethodGet, "/api/v1/csp-origins?limit=100&origin="+url.QueryEscape(origin), nil, &list); err != nil {
		return Step{}, err
	}
	step := Step{Object: "CSP origin", Name: origin}
	for _, e := range list.Data {
		if e.Origin == origin {
			step.Action, step.Detail = ActionKeep, "CSP entry "+e.ID+" already lists "+origin
			return step, nil
		}
	}
	step.Action, step.Detail = ActionCreate, "POST /api/v1/csp-origins: frame-ancestors "+origin
	step.apply = func(ctx context.Context) (string, error) {
		return "", c.c.do(ctx, http.MethodPost, "/api/v1/csp-origins", map[string]any{
			"name": "qs-jwt " + origin, "origin": origin, "description": "embedding Qlik (qs-jwt setup)", "frameAncestors": true}, nil)
	}
	return step, nil
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// pemCert returns the certificate as standard PEM (64-column lines), as the
// QMC's "JWT certificate" field shows it.
func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// parseCertPEM reads the first certificate of a PEM text.
func parseCertPEM(text string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(text))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}
