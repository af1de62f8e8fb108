package provision

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// DefaultQRSUser is the identity QRS calls are made as with the exported
// client certificate.
const DefaultQRSUser = "UserDirectory=INTERNAL; UserId=sa_repository"

// QRS is a client-managed Qlik Sense site's Repository Service API (port
// 4242), reached with the site's exported client certificate. Make one with
// [NewQRS]. Every call carries X-Qlik-User and a fresh xrfkey. Its String and
// formatting never show the key.
type QRS struct {
	c    caller
	site string
}

// NewQRS returns the QRS API at qrsURL (https://host:4242) using the client
// certificate and key in PEM (client.pem, client_key.pem) and trusting roots
// (nil means the system's; the site's root.pem is what to give).
func NewQRS(qrsURL string, certPEM, keyPEM []byte, roots *x509.CertPool) (*QRS, error) {
	u, err := url.Parse(strings.TrimRight(qrsURL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("provision: the QRS URL %q is not https://<host>:4242", qrsURL)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls error names the problem, never the key's bytes.
		return nil, fmt.Errorf("provision: the client certificate and key do not make a pair (give client.pem and client_key.pem as exported from the QMC): %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/qrs")
	return &QRS{site: base, c: caller{base: base, client: &http.Client{Transport: tr},
		auth: func(r *http.Request) {
			k := xrfkey()
			q := r.URL.Query()
			q.Set("xrfkey", k)
			r.URL.RawQuery = q.Encode()
			r.Header.Set("X-Qlik-Xrfkey", k)
			r.Header.Set("X-Qlik-User", DefaultQRSUser)
		}}}, nil
}

// String names the site, never the key.
func (q *QRS) String() string { return "provision.QRS(" + q.site + ")" }

// Format prints [QRS.String] for every verb.
func (q *QRS) Format(f fmt.State, _ rune) { fmt.Fprint(f, q.String()) }

// VirtualProxy is what [QRS.Plan] makes true: a virtual proxy with JWT
// authentication, linked to every proxy service.
type VirtualProxy struct {
	// Prefix is the virtual proxy's prefix (https://host/<prefix>/);
	// required, unique. Description "" means one naming qs-jwt.
	Prefix, Description string
	// Certificate is the "JWT certificate": the signing key's; required.
	Certificate *x509.Certificate
	// UserIDClaim and UserDirectoryClaim are the claims naming the user; ""
	// means userId and userDirectory. Audience "" means aud is not checked.
	UserIDClaim, UserDirectoryClaim, Audience string
	// GroupsClaim, when set, is mapped to the Sense attribute "group"
	// (user.environment.group in security rules).
	GroupsClaim string
	// AllowHosts is the host allow list (websocketCrossOriginWhiteList):
	// host names, with a port when it is not the default.
	AllowHosts []string
	// MashupOrigin, when set, is the one exact origin of a browser mashup:
	// its host joins the allow list and the proxy answers with
	// Access-Control-Allow-Origin for it (Nov 2024+ additional response
	// headers).
	MashupOrigin string
	// SessionCookieName "" means X-Qlik-Session-<prefix>; it must be unique.
	SessionCookieName string
}

// fields returns the virtual proxy's settings as the QRS entity names them.
func (v VirtualProxy) fields() (map[string]any, error) {
	var errs []error
	if v.Prefix = strings.Trim(v.Prefix, "/"); v.Prefix == "" {
		errs = append(errs, errors.New("provision: the prefix is empty; give the virtual proxy's prefix"))
	}
	if strings.ContainsAny(v.Prefix, "#?* ") {
		errs = append(errs, fmt.Errorf("provision: prefix %q holds a character a URL path cannot", v.Prefix))
	}
	if v.Certificate == nil {
		errs = append(errs, errors.New("provision: no certificate; give the signing key's certificate"))
	}
	hosts := slices.Clone(v.AllowHosts)
	for _, h := range hosts {
		if strings.Contains(h, "*") || strings.Contains(h, "/") || h == "" {
			errs = append(errs, fmt.Errorf("provision: allow-list entry %q is not a host name (no scheme, path or wildcard)", h))
		}
	}
	headers := ""
	if v.MashupOrigin != "" {
		if err := exactOrigin(v.MashupOrigin); err != nil {
			errs = append(errs, err)
		} else {
			_, host, _ := strings.Cut(v.MashupOrigin, "://")
			if !slices.Contains(hosts, host) {
				hosts = append(hosts, host)
			}
			headers = "Access-Control-Allow-Origin: " + v.MashupOrigin + "\nAccess-Control-Allow-Credentials: true\nAccess-Control-Expose-Headers: qlik-csrf-token"
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if v.UserIDClaim == "" {
		v.UserIDClaim = "userId"
	}
	if v.UserDirectoryClaim == "" {
		v.UserDirectoryClaim = "userDirectory"
	}
	if v.SessionCookieName == "" {
		v.SessionCookieName = "X-Qlik-Session-" + strings.ReplaceAll(v.Prefix, "/", "-")
	}
	if v.Description == "" {
		v.Description = "JWT logins (qs-jwt)"
	}
	attrs := []any{}
	if v.GroupsClaim != "" {
		attrs = append(attrs, map[string]any{"jwtAttribute": v.GroupsClaim, "senseAttribute": "group", "isMandatory": false})
	}
	if hosts == nil {
		hosts = []string{}
	}
	return map[string]any{
		"prefix": v.Prefix, "description": v.Description, "authenticationMethod": 4,
		"jwtPublicKeyCertificate":       string(pemCert(v.Certificate)),
		"jwtAttributeUserId":            v.UserIDClaim,
		"jwtAttributeUserDirectory":     v.UserDirectoryClaim,
		"jwtAudience":                   v.Audience,
		"jwtAttributeMap":               attrs,
		"sessionCookieHeaderName":       v.SessionCookieName,
		"websocketCrossOriginWhiteList": hosts,
		"additionalResponseHeaders":     headers,
	}, nil
}

// entity is a QRS entity kept whole, so that a PUT sends back every field.
type entity = map[string]any

// Plan reads the site and returns the steps that make the virtual proxy
// match v and link it to every proxy service (the central one included:
// without it /qps/csrftoken answers 400). It changes nothing.
func (q *QRS) Plan(ctx context.Context, v VirtualProxy) (*Plan, error) {
	want, err := v.fields()
	if err != nil {
		return nil, err
	}
	prefix := want["prefix"].(string)
	var all []entity
	if err := q.c.do(ctx, http.MethodGet, "/qrs/virtualproxyconfig/full", nil, &all); err != nil {
		return nil, err
	}
	var cur entity
	for _, e := range all {
		if str(e["prefix"]) == prefix {
			cur = e
		} else if strings.EqualFold(str(e["sessionCookieHeaderName"]), want["sessionCookieHeaderName"].(string)) {
			return nil, fmt.Errorf("provision: virtual proxy %q already uses the session cookie name %q; give another one", str(e["prefix"]), want["sessionCookieHeaderName"])
		}
	}
	p := &Plan{}
	vpID := "" // set once the virtual proxy exists
	step := Step{Object: "virtual proxy", Name: prefix}
	switch {
	case cur == nil:
		step.Action, step.Detail = ActionCreate, fmt.Sprintf("POST /qrs/virtualproxyconfig: prefix %q with JWT authentication", prefix)
		step.apply = func(ctx context.Context) (string, error) {
			var got entity
			if err := q.c.do(ctx, http.MethodPost, "/qrs/virtualproxyconfig", want, &got); err != nil {
				return "", err
			}
			vpID = str(got["id"])
			return step.Detail + "; created as " + vpID, nil
		}
	default:
		vpID = str(cur["id"])
		diff := differences(cur, want)
		if len(diff) == 0 {
			step.Action, step.Detail = ActionKeep, fmt.Sprintf("virtual proxy %s already has these settings", vpID)
			break
		}
		step.Action, step.Detail = ActionUpdate, fmt.Sprintf("PUT /qrs/virtualproxyconfig/%s: %s", vpID, strings.Join(diff, ", "))
		body := entity{}
		for k, val := range cur {
			body[k] = val
		}
		for k, val := range want {
			body[k] = val
		}
		step.apply = func(ctx context.Context) (string, error) {
			return "", q.c.do(ctx, http.MethodPut, "/qrs/virtualproxyconfig/"+url.PathEscape(vpID), body, nil)
		}
	}
	p.Steps = append(p.Steps, step)

	var services []entity
	if err := q.c.do(ctx, http.MethodGet, "/qrs/proxyservice/full", nil, &services); err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return nil, errors.New("provision: the QRS lists no proxy service; a virtual proxy serves only once linked to one")
	}
	for _, svc := range services {
		p.Steps = append(p.Steps, q.planLink(svc, &vpID, prefix))
	}
	return p, nil
}

// Setup plans and applies v, returning the plan with the steps done.
func (q *QRS) Setup(ctx context.Context, v VirtualProxy) (*Plan, error) {
	p, err := q.Plan(ctx, v)
	if err != nil {
		return nil, err
	}
	return p, p.Apply(ctx)
}

func (q *QRS) planLink(svc entity, vpID *string, prefix string) Step {
	id := str(svc["id"])
	node, _ := svc["serverNodeConfiguration"].(map[string]any)
	name := str(node["name"])
	if name == "" {
		name = id
	}
	if central, _ := node["isCentral"].(bool); central {
		name += " (central)"
	}
	settings, _ := svc["settings"].(map[string]any)
	linked, _ := settings["virtualProxies"].([]any)
	step := Step{Object: "proxy service", Name: name}
	for _, l := range linked {
		if m, ok := l.(map[string]any); ok && *vpID != "" && str(m["id"]) == *vpID {
			step.Action, step.Detail = ActionKeep, "already serves /"+prefix+"/"
			return step
		}
	}
	step.Action, step.Detail = ActionLink, fmt.Sprintf("PUT /qrs/proxyservice/%s: add the virtual proxy %q to settings.virtualProxies", id, prefix)
	step.apply = func(ctx context.Context) (string, error) {
		// Read it again: the PUT needs the current modifiedDate.
		var fresh entity
		if err := q.c.do(ctx, http.MethodGet, "/qrs/proxyservice/"+url.PathEscape(id), nil, &fresh); err != nil {
			return "", err
		}
		s, ok := fresh["settings"].(map[string]any)
		if !ok {
			return "", fmt.Errorf("GET /qrs/proxyservice/%s: the answer has no settings", id)
		}
		list, _ := s["virtualProxies"].([]any)
		for _, l := range list {
			if m, ok := l.(map[string]any); ok && str(m["id"]) == *vpID {
				return "already linked", nil
			}
		}
		s["virtualProxies"] = append(list, map[string]any{"id": *vpID})
		return "", q.c.do(ctx, http.MethodPut, "/qrs/proxyservice/"+url.PathEscape(id), fresh, nil)
	}
	return step
}

// differences names the settings of cur that are not as wanted.
func differences(cur, want entity) []string {
	var diff []string
	for _, k := range sortedKeys(want) {
		if !sameValue(k, cur[k], want[k]) {
			diff = append(diff, k)
		}
	}
	return diff
}

func sameValue(key string, got, want any) bool {
	switch key {
	case "jwtPublicKeyCertificate":
		c, err := parseCertPEM(str(got))
		return err == nil && string(pemCert(c)) == want.(string)
	case "websocketCrossOriginWhiteList":
		return sameSet(strs(got), want.([]string))
	case "jwtAttributeMap":
		var items []map[string]any
		for _, it := range asSlice(got) {
			m, _ := it.(map[string]any)
			items = append(items, map[string]any{"jwtAttribute": m["jwtAttribute"], "senseAttribute": m["senseAttribute"], "isMandatory": m["isMandatory"]})
		}
		return jsonEqual(items, want)
	case "additionalResponseHeaders":
		return strings.TrimSpace(strings.ReplaceAll(str(got), "\r\n", "\n")) == want.(string)
	}
	return jsonEqual(got, want)
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var na, nb any
	_ = json.Unmarshal(ja, &na)
	_ = json.Unmarshal(jb, &nb)
	if na == nil {
		na = []any{}
	}
	if nb == nil {
		nb = []any{}
	}
	x, _ := json.Marshal(na)
	y, _ := json.Marshal(nb)
	return string(x) == string(y)
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case json.Number:
		return s.String()
	}
	return ""
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func strs(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		out = append(out, str(x))
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
