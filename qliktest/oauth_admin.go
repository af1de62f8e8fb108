package qliktest

// This file emulates the admin side of Qlik Cloud OAuth: the OAuth clients
// (/api/v1/oauth-clients, with the tenant's API key) and the users an
// impersonation token needs (/api/v1/users).

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// oauthClient is an OAuth client as the API shows it (the secret and keys
// parsed are kept aside).
type oauthClient struct {
	ClientID           string            `json:"clientId"`
	ClientName         string            `json:"clientName"`
	AppType            string            `json:"appType"`
	AllowedGrantTypes  []string          `json:"allowedGrantTypes,omitempty"`
	AllowedScopes      []string          `json:"allowedScopes,omitempty"`
	AllowedAuthMethods []string          `json:"allowedAuthMethods"`
	AllowedOrigins     []string          `json:"allowedOrigins,omitempty"` // pages that may call with its tokens (oauth_browser.go)
	PublicKeys         []json.RawMessage `json:"publicKeys,omitempty"`
	ClientSecrets      []map[string]any  `json:"clientSecrets,omitempty"`
	CreatedAt          string            `json:"createdAt"`

	secret string
	keys   map[string]oauthKey // by kid
	bot    *cloudUser          // the user of its client credentials tokens
}

// oauthKey is a public key registered with a client.
type oauthKey struct {
	pub crypto.PublicKey
	alg string
}

// oauthClients serves /api/v1/oauth-clients: POST, GET, GET/DELETE by ID.
func (c *Cloud) oauthClients(w http.ResponseWriter, r *http.Request) {
	if tok, ok := bearer(r); !ok || tok != c.admin.apiKey {
		writeError(w, http.StatusUnauthorized, "HTTP-401", "Unauthorized", "the OAuth clients API needs Authorization: Bearer <API key of a tenant admin>")
		return
	}
	o := &c.oauth
	id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/api/v1/oauth-clients"), "/")
	switch {
	case id == "" && r.Method == http.MethodPost:
		cl, why := c.newOAuthClient(r)
		if why != "" {
			writeError(w, http.StatusBadRequest, "OAUTH-CLIENTS-400", "Bad Request", why)
			return
		}
		o.mu.Lock()
		o.clients = append(o.clients, cl)
		o.mu.Unlock()
		out := struct {
			*oauthClient
			ClientSecret string `json:"clientSecret,omitempty"`
		}{cl, cl.secret}
		writeJSON(w, http.StatusCreated, out)
	case id == "" && r.Method == http.MethodGet:
		o.mu.Lock()
		defer o.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": o.clients, "links": map[string]any{"self": map[string]string{"href": c.URL + r.URL.Path}}})
	case id != "" && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		o.mu.Lock()
		defer o.mu.Unlock()
		i := slices.IndexFunc(o.clients, func(cl *oauthClient) bool { return cl.ClientID == id })
		switch {
		case i < 0:
			writeError(w, http.StatusNotFound, "OAUTH-CLIENTS-404", "Not Found", "no OAuth client "+id)
		case r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, o.clients[i])
		default:
			o.clients = slices.Delete(o.clients, i, i+1)
			for tok, a := range o.tokens {
				if a.clientID == id {
					delete(o.tokens, tok)
				}
			}
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use POST or GET on /api/v1/oauth-clients, GET or DELETE on /api/v1/oauth-clients/{id}")
	}
}

// OAuthClient is an OAuth client for [Cloud.AddOAuthClient], as the
// oauth-clients API takes it (appType "web").
type OAuthClient struct {
	// Name is the clientName.
	Name string
	// GrantTypes are the allowedGrantTypes: [GrantClientCredentials],
	// [GrantImpersonation].
	GrantTypes []string
	// Scopes are the allowedScopes, e.g. "user_default".
	Scopes []string
	// PublicKeys are JWKs for private_key_jwt (qsjwt's
	// ClientAssertion.PublicJWK writes one); Secret asks for a client secret
	// (client_secret). Without either, Secret is assumed.
	PublicKeys [][]byte
	Secret     bool
	// AllowedOrigins are the origins of the pages that may call the tenant
	// with the client's access tokens (CORS, the engine WebSocket; see
	// oauth_browser.go), e.g. "https://www.example.com".
	AllowedOrigins []string
}

// AddOAuthClient makes an OAuth client, as POST /api/v1/oauth-clients does
// (but without the admin API), and returns its ID and, with Secret, its
// secret.
func (c *Cloud) AddOAuthClient(o OAuthClient) (clientID, secret string, err error) {
	in := oauthClient{ClientName: o.Name, AppType: "web", AllowedGrantTypes: o.GrantTypes, AllowedScopes: o.Scopes, AllowedOrigins: o.AllowedOrigins}
	if o.Secret || len(o.PublicKeys) == 0 {
		in.AllowedAuthMethods = append(in.AllowedAuthMethods, "client_secret")
	}
	if len(o.PublicKeys) > 0 {
		in.AllowedAuthMethods = append(in.AllowedAuthMethods, "private_key_jwt")
	}
	for _, k := range o.PublicKeys {
		in.PublicKeys = append(in.PublicKeys, json.RawMessage(k))
	}
	cl, why := c.checkOAuthClient(in)
	if why != "" {
		return "", "", fmt.Errorf("qliktest: AddOAuthClient: %s", why)
	}
	c.oauth.mu.Lock()
	c.oauth.clients = append(c.oauth.clients, cl)
	c.oauth.mu.Unlock()
	return cl.ClientID, cl.secret, nil
}

// newOAuthClient reads and checks a create request.
func (c *Cloud) newOAuthClient(r *http.Request) (*oauthClient, string) {
	var in oauthClient
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&in); err != nil {
		return nil, "the body must be a JSON OAuth client"
	}
	return c.checkOAuthClient(in)
}

// checkOAuthClient checks a client to create and fills in its ID, secret,
// keys and user.
func (c *Cloud) checkOAuthClient(in oauthClient) (*oauthClient, string) {
	switch {
	case in.ClientName == "":
		return nil, "clientName is required"
	case !slices.Contains([]string{"web", "native", "spa", "anonymous-embed"}, in.AppType):
		return nil, `appType must be "web", "native", "spa" or "anonymous-embed"`
	case len(in.AllowedGrantTypes) > 0 && in.AppType != "web":
		return nil, "allowedGrantTypes are only for appType web"
	}
	for _, g := range in.AllowedGrantTypes {
		if g != GrantClientCredentials && g != GrantImpersonation {
			return nil, fmt.Sprintf("allowedGrantTypes: %q is not %s or %s", g, GrantClientCredentials, GrantImpersonation)
		}
	}
	if msg := badOrigins(in.AllowedOrigins); msg != "" {
		return nil, "allowedOrigins: " + msg
	}
	if len(in.AllowedAuthMethods) == 0 {
		in.AllowedAuthMethods = []string{"client_secret"}
	}
	for _, m := range in.AllowedAuthMethods {
		if m != "client_secret" && m != "private_key_jwt" {
			return nil, fmt.Sprintf("allowedAuthMethods: %q is not client_secret or private_key_jwt", m)
		}
	}
	if slices.Contains(in.AllowedAuthMethods, "private_key_jwt") && len(in.PublicKeys) == 0 {
		return nil, "publicKeys are required with private_key_jwt"
	}
	in.keys = map[string]oauthKey{}
	for i, raw := range in.PublicKeys {
		kid, key, why := parseClientJWK(raw)
		if why != "" {
			return nil, fmt.Sprintf("publicKeys[%d]: %s", i, why)
		}
		if _, dup := in.keys[kid]; dup {
			return nil, fmt.Sprintf("publicKeys[%d]: kid %q is given twice", i, kid)
		}
		in.keys[kid] = key
	}
	now := c.now().UTC()
	in.ClientID = randomHex(16)
	in.CreatedAt = now.Format(time.RFC3339Nano)
	if slices.Contains(in.AllowedAuthMethods, "client_secret") {
		in.secret = randomHex(32)
		in.ClientSecrets = []map[string]any{{"hint": in.secret[len(in.secret)-4:], "createdAt": in.CreatedAt}}
	}
	in.bot = &cloudUser{ID: mac(c.secret, "bot:"+in.ClientID)[:24], TenantID: "qliktest-tenant",
		Subject: "oauth-client/" + in.ClientID, Name: in.ClientName, Status: "active"}
	return &in, ""
}

// parseClientJWK reads a public key as Qlik's oauth-clients API takes it:
// kid, alg RS256/RS512 (kty RSA, at least 2048 bits) or ES384 (kty EC,
// crv P-384), use "sig", no private member.
func parseClientJWK(raw json.RawMessage) (string, oauthKey, string) {
	var j struct{ Kid, Kty, Alg, Use, N, E, Crv, X, Y, D string }
	if json.Unmarshal(raw, &j) != nil {
		return "", oauthKey{}, "not a JWK object of strings"
	}
	switch {
	case j.D != "":
		return "", oauthKey{}, "holds a private key; register the public key only"
	case j.Kid == "":
		return "", oauthKey{}, "kid is required"
	case j.Use != "sig":
		return "", oauthKey{}, `use must be "sig"`
	}
	dec := base64.RawURLEncoding.Strict()
	switch {
	case j.Kty == "RSA" && (j.Alg == "RS256" || j.Alg == "RS512"):
		n, err1 := dec.DecodeString(j.N)
		e, err2 := dec.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return "", oauthKey{}, "n and e must be base64url"
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
			return "", oauthKey{}, fmt.Sprintf("the RSA key must have at least %d bits and an odd exponent", minRSABits)
		}
		return j.Kid, oauthKey{pub, j.Alg}, ""
	case j.Kty == "EC" && j.Alg == "ES384" && j.Crv == "P-384":
		x, err1 := dec.DecodeString(j.X)
		y, err2 := dec.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != 48 || len(y) != 48 {
			return "", oauthKey{}, "x and y must be 48 bytes of base64url"
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), bytes.Join([][]byte{{4}, x, y}, nil))
		if err != nil {
			return "", oauthKey{}, "the point is not on P-384"
		}
		return j.Kid, oauthKey{pub, j.Alg}, ""
	}
	return "", oauthKey{}, fmt.Sprintf("kty %q with alg %q is not accepted: RSA with RS256 or RS512, EC P-384 with ES384", j.Kty, j.Alg)
}

// usersAPI serves GET /api/v1/users?filter=subject eq "…" and POST
// /api/v1/users, for the tenant's API key or an access token of the client
// credentials grant.
func (c *Cloud) usersAPI(w http.ResponseWriter, r *http.Request) {
	tok, _ := bearer(r)
	allowed := c.admin != nil && tok == c.admin.apiKey
	if !allowed {
		if s := c.oauthSession(r); s != nil && strings.HasPrefix(s.user.Subject, "oauth-client/") {
			allowed = true
		}
	}
	if !allowed {
		writeError(w, http.StatusUnauthorized, "HTTP-401", "Unauthorized", "the users API needs Authorization: Bearer with the API key or a client credentials access token")
		return
	}
	switch r.Method {
	case http.MethodGet:
		filter := r.URL.Query().Get("filter")
		subject, ok := strings.CutPrefix(filter, "subject eq ")
		var want string
		if !ok || json.Unmarshal([]byte(subject), &want) != nil {
			writeError(w, http.StatusBadRequest, "USERS-400", "Bad Request", `the emulator filters by subject only: filter=subject eq "<subject>"`)
			return
		}
		data := []cloudUser{}
		c.mu.Lock()
		if u, ok := c.users[want]; ok {
			data = append(data, *u)
		}
		c.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": map[string]any{}})
	case http.MethodPost:
		var in struct{ Subject, Name, Email string }
		if json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&in) != nil || in.Subject == "" {
			writeError(w, http.StatusBadRequest, "USERS-400", "Bad Request", `the body must be {"subject":…,"name":…,"email":…}`)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.users[in.Subject]; ok {
			writeError(w, http.StatusConflict, "USERS-409", "Conflict", "a user with this subject exists")
			return
		}
		u := &cloudUser{ID: mac(c.secret, "user:"+in.Subject)[:24], TenantID: "qliktest-tenant", Subject: in.Subject,
			Name: in.Name, Email: in.Email, Status: "active"}
		c.users[in.Subject] = u
		writeJSON(w, http.StatusCreated, u)
	default:
		writeError(w, http.StatusMethodNotAllowed, "HTTP-405", "Method Not Allowed", "use GET or POST")
	}
}

// randomHex returns n random bytes in hex, as Qlik's client IDs are.
func randomHex(n int) string {
	b, _ := base64.RawURLEncoding.DecodeString(randomID(n))
	return fmt.Sprintf("%x", b)
}
