package qliktest

import (
	"bytes"
	"strings"
	"time"
)

// The token rules of both emulators, one method per variant. Each rule is a
// row of docs/qlik-rules.md (the row IDs are in the comments);
// rules_test.go runs the same tokens through these and through qsjwt's
// verifier and requires the same decision. The form, the algorithm, the
// signature and the dates are read by verify and jwt's helpers (jwt.go).

// check applies the identity provider's rules to a token.
func (c *Cloud) check(raw string, now time.Time) (u *cloudUser, jti string, exp time.Time, p *problem) {
	idp, p := c.identityProvider(raw) // an IdP the admin API created, when it is on
	if p != nil {
		return nil, "", exp, p
	}
	t, p := verify(raw, idp.pub, "RS256") // C-FORM-*, C-ALG-1, C-SIG-1; typ is not read (C-TYP-1)
	if p != nil {
		return nil, "", exp, p
	}
	kid, ok := t.string("header", "kid") // C-KID-1
	switch {
	case !ok:
		return nil, "", exp, refuse(kindSignature, "the header has no kid; give the identity provider's Key ID")
	case kid != idp.keyID:
		return nil, "", exp, refuse(kindSignature, "kid %q is not the identity provider's Key ID", kid)
	}
	iss, p := t.requireString("iss") // C-ISS-1
	if p != nil {
		return nil, "", exp, p
	}
	if iss != idp.issuer {
		return nil, "", exp, refuse(kindIssuer, "iss %q is not the identity provider's issuer", iss)
	}
	if a, ok := t.claims["aud"]; ok && strings.HasPrefix(strings.TrimSpace(string(a)), "[") { // C-AUD-1
		return nil, "", exp, refuse(kindClaims, "claim aud must be the string %q, not an array", CloudAudience)
	}
	aud, p := t.requireString("aud")
	if p != nil {
		return nil, "", exp, p
	}
	if aud != CloudAudience {
		return nil, "", exp, refuse(kindIssuer, "aud %q is not %q", aud, CloudAudience)
	}
	u = &cloudUser{} // C-USER-1, C-SUBTYPE-1
	var subType string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"sub", &u.Subject}, {"subType", &subType}, {"name", &u.Name}, {"email", &u.Email}} {
		if *f.dst, p = t.requireString(f.name); p != nil {
			return nil, "", exp, p
		}
	}
	if subType != "user" {
		return nil, "", exp, refuse(kindClaims, "claim subType must be \"user\", got %q", subType)
	}
	// C-EV-1: required, and the JSON boolean true or false (not null, not "true").
	switch v, ok := t.claims["email_verified"]; string(bytes.TrimSpace(v)) {
	case "true", "false":
		u.EmailVerified = string(bytes.TrimSpace(v)) == "true"
	default:
		if !ok {
			return nil, "", exp, refuse(kindClaims, "Missing required claim: email_verified")
		}
		return nil, "", exp, refuse(kindClaims, "claim email_verified must be the JSON boolean true or false, got %s", v)
	}
	// C-JTI-1: a non-empty string, or a number as in Qlik Support's own
	// example; the seen-list keys it by its JSON text.
	switch v, ok := t.claims["jti"]; {
	case !ok:
		return nil, "", exp, refuse(kindClaims, "Missing required claim: jti")
	case isJSONNumber(v):
		jti = string(bytes.TrimSpace(v))
	default:
		if _, p = t.requireString("jti"); p != nil {
			return nil, "", exp, p
		}
		jti = string(bytes.TrimSpace(v))
	}
	// C-GRP-1; "group" is not read (C-GRP-2).
	if u.Groups, p = t.stringArray("groups"); p != nil {
		return nil, "", exp, p
	}
	iat, p := t.requireDate("iat") // C-TIME-1, C-TIME-2
	if p != nil {
		return nil, "", exp, p
	}
	nbf, p := t.requireDate("nbf")
	if p != nil {
		return nil, "", exp, p
	}
	if exp, p = t.requireDate("exp"); p != nil {
		return nil, "", exp, p
	}
	if exp.Sub(nbf) > maxCloudLifetime || exp.Sub(iat) > maxCloudLifetime { // C-TIME-3
		return nil, "", exp, refuse(kindTime, "exp - nbf and exp - iat must be at most 3600 s, got %v and %v",
			exp.Sub(nbf).Seconds(), exp.Sub(iat).Seconds())
	}
	// C-TIME-4, C-TIME-6; iat is not compared with the clock (C-TIME-5).
	if p := timeWindow(now, exp, nbf, true, true, idp.tolerance); p != nil {
		return nil, "", exp, p
	}
	return u, jti, exp, nil
}

// check applies the virtual proxy's rules to a token.
func (q *QSEoW) check(raw string, now time.Time) (qpsUser, *problem) {
	t, p := verify(raw, q.pub, "RS256", "RS384", "RS512") // Q-FORM-*, Q-ALG-1, Q-SIG-1; kid is not read (Q-KID-1)
	if p != nil {
		return qpsUser{}, p
	}
	var u qpsUser // Q-USER-1, Q-USER-2
	for _, f := range []struct {
		name string
		dst  *string
	}{{q.cfg.UserIDClaim, &u.UserID}, {q.cfg.UserDirectoryClaim, &u.UserDirectory}} {
		v, p := t.requireString(f.name)
		if p != nil {
			return qpsUser{}, p
		}
		if strings.TrimSpace(v) != v || strings.Contains(v, `\`) {
			return qpsUser{}, refuse(kindClaims, "claim %s %q has surrounding white space or a backslash", f.name, v)
		}
		*f.dst = v
	}
	if q.cfg.Audience != "" { // Q-AUD-1
		if a, ok := t.claims["aud"]; ok && strings.HasPrefix(strings.TrimSpace(string(a)), "[") {
			return qpsUser{}, refuse(kindClaims, "claim aud must be the string %q, not an array", q.cfg.Audience)
		}
		aud, p := t.requireString("aud")
		if p != nil {
			return qpsUser{}, p
		}
		if aud != q.cfg.Audience {
			return qpsUser{}, refuse(kindIssuer, "aud %q is not the virtual proxy's JWT audience", aud)
		}
	}
	exp, hasExp, p := t.date("exp") // Q-TIME-1, Q-TIME-2
	if p != nil {
		return qpsUser{}, p
	}
	nbf, hasNbf, p := t.date("nbf")
	if p != nil {
		return qpsUser{}, p
	}
	// Q-TIME-4: iat is not compared with the clock, but Q-TIME-2 holds for
	// it as for the other dates.
	if _, _, p := t.date("iat"); p != nil {
		return qpsUser{}, p
	}
	return u, timeWindow(now, exp, nbf, hasExp, hasNbf, q.cfg.ClockTolerance) // Q-TIME-1, Q-TIME-3, Q-TIME-5
}
