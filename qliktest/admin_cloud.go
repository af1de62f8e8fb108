package qliktest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// cloudAdmin is the tenant's admin API, on when CloudConfig.APIKey is set:
// identity providers, group settings, web integrations and CSP origins, kept
// for the tenant's life. With it on, logins use the identity providers
// created through it, and only those.
type cloudAdmin struct {
	apiKey string

	mu       sync.Mutex
	idps     []*adminIdP
	autoCrGr bool
	licences map[string]bool // autoAssignAnalyzer, autoAssignProfessional
	webInts  []*adminWebIntegration
	csp      []map[string]any
	changes  int
}

type adminIdP struct {
	ID                string         `json:"id"`
	TenantIDs         []string       `json:"tenantIds"`
	Provider          string         `json:"provider"`
	Protocol          string         `json:"protocol"`
	Interactive       bool           `json:"interactive"`
	Active            bool           `json:"active"`
	Description       string         `json:"description"`
	ClockToleranceSec int            `json:"clockToleranceSec"`
	Options           adminIdPOption `json:"options"`
	Created           string         `json:"created"`
	LastUpdated       string         `json:"lastUpdated"`

	pub *rsa.PublicKey
}

type adminIdPOption struct {
	Issuer          string `json:"issuer"`
	JWTLoginEnabled bool   `json:"jwtLoginEnabled"`
	StaticKeys      []struct {
		KID string `json:"kid"`
		PEM string `json:"pem"`
	} `json:"staticKeys"`
}

type adminWebIntegration struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	ValidOrigins []string `json:"validOrigins"`
	TenantID     string   `json:"tenantId"`
	Created      string   `json:"created"`
}

// idpSettings is what a login is checked against.
type idpSettings struct {
	pub           *rsa.PublicKey
	keyID, issuer string
	tolerance     time.Duration
}

// AdminChanges returns the number of changes made through the admin API
// (creations, updates, deletions), for tests that a second setup changes
// nothing. It is 0 without CloudConfig.APIKey.
func (c *Cloud) AdminChanges() int {
	if c.admin == nil {
		return 0
	}
	c.admin.mu.Lock()
	defer c.admin.mu.Unlock()
	return c.admin.changes
}

// identityProvider returns the settings a token is checked against: without
// the admin API, the tenant's configured identity provider; with it, the
// active JWT identity provider whose key ID is the token's kid.
func (c *Cloud) identityProvider(raw string) (idpSettings, *problem) {
	if c.admin == nil {
		return idpSettings{c.pub, c.cfg.KeyID, c.cfg.Issuer, c.cfg.ClockTolerance}, nil
	}
	head, _, _ := strings.Cut(raw, ".")
	var h struct {
		Kid string `json:"kid"`
	}
	js, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || json.Unmarshal(js, &h) != nil {
		return idpSettings{}, refuse(kindMalformed, "the token's header is not base64url JSON")
	}
	c.admin.mu.Lock()
	defer c.admin.mu.Unlock()
	for _, p := range c.admin.idps {
		if p.Active && p.Protocol == "jwtAuth" && p.Options.StaticKeys[0].KID == h.Kid {
			return idpSettings{p.pub, h.Kid, p.Options.Issuer, time.Duration(p.ClockToleranceSec) * time.Second}, nil
		}
	}
	return idpSettings{}, refuse(kindSignature, "kid %q is not the Key ID of any active JWT identity provider of the tenant", h.Kid)
}

// adminPaths are the paths the admin API serves.
func (a *cloudAdmin) serves(path string) bool {
	for _, p := range []string{"/api/v1/identity-providers", "/api/v1/groups/settings", "/api/v1/licenses/settings", "/api/v1/web-integrations", "/api/v1/csp-origins"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return path == "/api/v1/users/me"
}

// serveAdmin serves the admin API. Calls need Authorization: Bearer with the
// API key; /api/v1/users/me keeps the session and shows groups only when
// group creation is on, as a tenant without it creates none.
func (c *Cloud) serveAdmin(w http.ResponseWriter, r *http.Request) {
	a := c.admin
	if r.URL.Path == "/api/v1/users/me" {
		s := c.session(w, r)
		if s == nil {
			return
		}
		c.mu.Lock()
		u := *s.user
		c.mu.Unlock()
		a.mu.Lock()
		if !a.autoCrGr {
			u.Groups = nil
		}
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, u)
		return
	}
	if tok, ok := bearer(r); !ok || tok != a.apiKey {
		writeError(w, http.StatusUnauthorized, "HTTP-401", "Unauthorized", "the admin API needs Authorization: Bearer <API key of a tenant admin>")
		return
	}
	now := c.now().UTC().Format(time.RFC3339Nano)
	a.mu.Lock()
	defer a.mu.Unlock()
	path := r.URL.Path
	switch {
	case path == "/api/v1/identity-providers" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"data": a.idps, "links": map[string]any{"self": map[string]string{"href": c.URL + path}}})
	case path == "/api/v1/identity-providers" && r.Method == http.MethodPost:
		p, msg := a.newIdP(r)
		if msg != "" {
			writeError(w, http.StatusBadRequest, "IDENTITY-PROVIDERS-400", "Bad Request", msg)
			return
		}
		p.ID, p.TenantIDs, p.Created, p.LastUpdated = randomID(12), []string{"qliktest-tenant"}, now, now
		a.idps = append(a.idps, p)
		a.changes++
		writeJSON(w, http.StatusCreated, p)
	case strings.HasPrefix(path, "/api/v1/identity-providers/"):
		id := strings.TrimPrefix(path, "/api/v1/identity-providers/")
		i := slices.IndexFunc(a.idps, func(p *adminIdP) bool { return p.ID == id })
		if i < 0 {
			writeError(w, http.StatusNotFound, "IDENTITY-PROVIDERS-404", "Not Found", "no identity provider "+id)
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, a.idps[i])
		case http.MethodDelete:
			a.idps = slices.Delete(a.idps, i, i+1)
			a.changes++
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPatch:
			var ops []struct {
				Op, Path string
				Value    json.RawMessage
			}
			var desc string
			if json.NewDecoder(r.Body).Decode(&ops) != nil || len(ops) == 0 {
				writeError(w, http.StatusBadRequest, "IDENTITY-PROVIDERS-400", "Bad Request", "the body must be a JSON Patch array")
				return
			}
			for _, op := range ops {
				if op.Op != "replace" || op.Path != "/description" || json.Unmarshal(op.Value, &desc) != nil {
					writeError(w, http.StatusBadRequest, "IDENTITY-PROVIDERS-400", "Bad Request", "a jwtAuth identity provider allows only replace of /description")
					return
				}
			}
			a.idps[i].Description, a.idps[i].LastUpdated = desc, now
			a.changes++
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use GET, PATCH or DELETE")
		}
	case path == "/api/v1/groups/settings" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"autoCreateGroups": a.autoCrGr, "syncIdpGroups": false})
	case path == "/api/v1/groups/settings" && r.Method == http.MethodPatch:
		var ops []struct {
			Op, Path string
			Value    any
		}
		if json.NewDecoder(r.Body).Decode(&ops) != nil || len(ops) == 0 {
			writeError(w, http.StatusBadRequest, "GROUPS-400", "Bad Request", "the body must be a JSON Patch array")
			return
		}
		for _, op := range ops {
			v, isBool := op.Value.(bool)
			if op.Op != "replace" || op.Path != "/autoCreateGroups" || !isBool {
				writeError(w, http.StatusBadRequest, "GROUPS-400", "Bad Request", `give [{"op":"replace","path":"/autoCreateGroups","value":true}]`)
				return
			}
			a.autoCrGr = v
		}
		a.changes++
		w.WriteHeader(http.StatusNoContent)
	case path == "/api/v1/licenses/settings" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]bool{"autoAssignAnalyzer": a.licences["autoAssignAnalyzer"], "autoAssignProfessional": a.licences["autoAssignProfessional"]})
	case path == "/api/v1/licenses/settings" && r.Method == http.MethodPut:
		var in map[string]any
		if json.NewDecoder(r.Body).Decode(&in) != nil || in == nil {
			writeError(w, http.StatusBadRequest, "LICENSES-400", "Bad Request", "the body must be a JSON object")
			return
		}
		next := map[string]bool{}
		for k, v := range in {
			b, ok := v.(bool)
			if !ok || (k != "autoAssignAnalyzer" && k != "autoAssignProfessional") {
				writeError(w, http.StatusBadRequest, "LICENSES-400", "Bad Request", "give {\"autoAssignAnalyzer\": bool, \"autoAssignProfessional\": bool}")
				return
			}
			next[k] = b
		}
		a.licences = next
		a.changes++
		writeJSON(w, http.StatusOK, next)
	case path == "/api/v1/web-integrations" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"data": a.webInts, "links": map[string]any{"self": map[string]string{"href": c.URL + path}}})
	case path == "/api/v1/web-integrations" && r.Method == http.MethodPost:
		var in adminWebIntegration
		if json.NewDecoder(r.Body).Decode(&in) != nil || strings.TrimSpace(in.Name) == "" {
			writeError(w, http.StatusBadRequest, "WEB-INTEGRATIONS-400", "Bad Request", `the body must be {"name":…,"validOrigins":[…]}`)
			return
		}
		if msg := badOrigins(in.ValidOrigins); msg != "" {
			writeError(w, http.StatusBadRequest, "WEB-INTEGRATIONS-400", "Bad Request", msg)
			return
		}
		in.ID, in.TenantID, in.Created = randomID(12), "qliktest-tenant", now
		a.webInts = append(a.webInts, &in)
		a.changes++
		writeJSON(w, http.StatusCreated, in)
	case strings.HasPrefix(path, "/api/v1/web-integrations/") && r.Method == http.MethodPatch:
		id := strings.TrimPrefix(path, "/api/v1/web-integrations/")
		i := slices.IndexFunc(a.webInts, func(x *adminWebIntegration) bool { return x.ID == id })
		var ops []struct {
			Op, Path string
			Value    []string
		}
		switch {
		case i < 0:
			writeError(w, http.StatusNotFound, "WEB-INTEGRATIONS-404", "Not Found", "no web integration "+id)
		case json.NewDecoder(r.Body).Decode(&ops) != nil || len(ops) != 1 || ops[0].Op != "replace" || ops[0].Path != "/validOrigins":
			writeError(w, http.StatusBadRequest, "WEB-INTEGRATIONS-400", "Bad Request", `give [{"op":"replace","path":"/validOrigins","value":[…]}]`)
		case badOrigins(ops[0].Value) != "":
			writeError(w, http.StatusBadRequest, "WEB-INTEGRATIONS-400", "Bad Request", badOrigins(ops[0].Value))
		default:
			a.webInts[i].ValidOrigins = ops[0].Value
			a.changes++
			w.WriteHeader(http.StatusNoContent)
		}
	case path == "/api/v1/csp-origins" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, e := range a.csp {
			if o := r.URL.Query().Get("origin"); o == "" || strings.EqualFold(o, e["origin"].(string)) {
				out = append(out, e)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": out})
	case path == "/api/v1/csp-origins" && r.Method == http.MethodPost:
		var in map[string]any
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			writeError(w, http.StatusBadRequest, "CSP-400", "Bad Request", "the body must be a JSON object")
			return
		}
		if o, _ := in["origin"].(string); strings.TrimSpace(o) == "" || strings.Contains(o, "*") {
			writeError(w, http.StatusBadRequest, "CSP-400", "Bad Request", "origin is required, without wildcards")
			return
		}
		in["id"], in["createdDate"], in["modifiedDate"] = randomID(12), now, now
		a.csp = append(a.csp, in)
		a.changes++
		writeJSON(w, http.StatusCreated, in)
	default:
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", r.Method+" "+path)
	}
}

// newIdP reads and checks a POST /api/v1/identity-providers body, returning
// why it is refused.
func (a *cloudAdmin) newIdP(r *http.Request) (*adminIdP, string) {
	p := &adminIdP{ClockToleranceSec: 5}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if dec.Decode(&raw) != nil {
		return nil, "the body is not a JSON object"
	}
	js, _ := json.Marshal(raw)
	if err := json.Unmarshal(js, p); err != nil {
		return nil, "a field has the wrong type: " + err.Error()
	}
	if _, ok := raw["active"]; !ok {
		p.Active = true
	}
	switch {
	case p.Protocol != "jwtAuth":
		return nil, fmt.Sprintf("protocol %q: this emulator creates jwtAuth identity providers only", p.Protocol)
	case p.Provider != "external":
		return nil, `provider must be "external" for protocol jwtAuth`
	case p.Interactive:
		return nil, "a jwtAuth identity provider cannot be interactive"
	case strings.TrimSpace(p.Options.Issuer) == "":
		return nil, "options.issuer is required"
	case len(p.Options.StaticKeys) != 1:
		return nil, "options.staticKeys must hold exactly one key (limited to 1 key per identity provider)"
	case strings.TrimSpace(p.Options.StaticKeys[0].KID) == "":
		return nil, "options.staticKeys[0].kid is required"
	case p.ClockToleranceSec < 0 || p.ClockToleranceSec > 7200:
		return nil, "clockToleranceSec must be between 0 and 7200"
	}
	pub, msg := pemRSAKey(p.Options.StaticKeys[0].PEM)
	if msg != "" {
		return nil, "options.staticKeys[0].pem: " + msg
	}
	p.pub = pub
	for _, o := range a.idps {
		if o.Options.Issuer == p.Options.Issuer && o.Options.StaticKeys[0].KID == p.Options.StaticKeys[0].KID {
			return nil, fmt.Sprintf("an identity provider with issuer %q and kid %q exists (%s)", p.Options.Issuer, p.Options.StaticKeys[0].KID, o.ID)
		}
	}
	return p, ""
}

// pemRSAKey reads the RSA public key of a PEM certificate or public key.
func pemRSAKey(text string) (*rsa.PublicKey, string) {
	if strings.Contains(text, `\n`) {
		return nil, `holds a literal backslash-n: send the PEM's line breaks as JSON \n escapes, not as the two characters \ and n`
	}
	b, _ := pem.Decode([]byte(text))
	if b == nil {
		return nil, "not PEM (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)"
	}
	var pub any
	switch b.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, "the certificate does not parse"
		}
		pub = c.PublicKey
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, "the public key does not parse"
		}
		pub = k
	default:
		return nil, "a " + b.Type + " block; give a CERTIFICATE"
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, "not an RSA key"
	}
	return k, ""
}

// badOrigins names the first origin Qlik would refuse: a wildcard, or not
// scheme://host.
func badOrigins(origins []string) string {
	for _, o := range origins {
		scheme, host, ok := strings.Cut(o, "://")
		if strings.Contains(o, "*") || !ok || (scheme != "https" && scheme != "http") || host == "" || strings.ContainsAny(host, "/?#") {
			return fmt.Sprintf("origin %q: give an exact origin (scheme://host[:port]); wildcards are not allowed", o)
		}
	}
	return ""
}
