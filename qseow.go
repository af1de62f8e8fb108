package qsjwt

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Defaults for QSEoW tokens.
const (
	DefaultUserIDClaim        = "userId"
	DefaultUserDirectoryClaim = "userDirectory"
	DefaultGroupsClaim        = "group"
	DefaultQSEoWTTL           = time.Hour
)

// QSEoW signs tokens for a client-managed Qlik Sense virtual proxy with JWT
// authentication. Make one with [NewQSEoW]; it is immutable and safe for
// concurrent use.
type QSEoW struct {
	cfg qseowConfig
}

// QSEoWUser is the user a QSEoW token logs in. The virtual proxy joins the
// directory and the ID as DIRECTORY\userId.
type QSEoWUser struct {
	// UserDirectory and UserID are required: not empty, no leading or
	// trailing white space, no backslash.
	UserDirectory string
	UserID        string
	// Name and Email are optional; written as "name" and "email".
	Name  string
	Email string
	// Groups are written as an array under the groups claim ("group" by
	// default, see WithGroupsClaim), omitted when empty.
	Groups []string
	// Attributes are further claims (e.g. "roles", "department") that the
	// proxy's attribute mapping can turn into user.environment.<name>.
	// Values are strings, string slices, booleans or numbers; a name may not
	// be a registered JWT claim nor any claim the token already carries.
	Attributes map[string]any
}

// NewQSEoW checks the options and returns a QSEoW token builder. With no
// option but [WithSigner] it signs RS256 tokens valid for one hour with the
// claims userId, userDirectory and group and no audience. Every problem with
// the options is reported at once, each naming the option that fixes it.
//
// [WithPublicKey] and [WithClockSkew] configure a [QSEoWVerifier] and are
// ignored here, so that one set of options serves both.
func NewQSEoW(opts ...QSEoWOption) (*QSEoW, error) {
	cfg := newQSEoWConfig("NewQSEoW", opts)
	if err := cfg.finish(DefaultQSEoWTTL); err != nil {
		return nil, err
	}
	return &QSEoW{cfg: cfg}, nil
}

// newQSEoWConfig applies opts over the defaults and checks the rules that
// span several options; constructor names the function for a nil option.
func newQSEoWConfig(constructor string, opts []QSEoWOption) qseowConfig {
	cfg := qseowConfig{
		alg:          RS256,
		userIDClaim:  DefaultUserIDClaim,
		userDirClaim: DefaultUserDirectoryClaim,
		groupsClaim:  DefaultGroupsClaim,
	}
	for _, o := range opts {
		if o == nil {
			cfg.fail(constructor, "an option is nil")
			continue
		}
		o.applyQSEoW(&cfg)
	}
	names := []struct{ option, name string }{
		{"WithUserIDClaim", cfg.userIDClaim},
		{"WithUserDirectoryClaim", cfg.userDirClaim},
		{"WithGroupsClaim", cfg.groupsClaim},
	}
	for i, a := range names {
		for _, b := range names[:i] {
			if a.name == b.name {
				cfg.fail(a.option, "claim name %q is also given by %s; the claims must differ", a.name, b.option)
			}
		}
	}
	return cfg
}

// Algorithm returns the algorithm the tokens are signed with.
func (q *QSEoW) Algorithm() Algorithm { return q.cfg.alg }

// Sign checks u against the QSEoW rules and returns a signed token. A claim
// the rules refuse gives a [*ClaimError]; a failing signer an error wrapping
// [ErrSigner], or ctx's error when ctx ended.
func (q *QSEoW) Sign(ctx context.Context, u QSEoWUser) (Token, error) {
	claims, err := q.claims(u)
	if err != nil {
		return Token{}, err
	}
	now := q.cfg.now().Truncate(time.Second)
	exp := now.Add(q.cfg.ttl).Truncate(time.Second)
	if err := claims.add("iat", "", now); err != nil {
		return Token{}, err
	}
	if err := claims.add("exp", "", exp); err != nil {
		return Token{}, err
	}
	raw, err := q.cfg.sign(ctx, q.cfg.alg, "", claims.claims)
	if err != nil {
		return Token{}, err
	}
	return Token{Raw: raw, IssuedAt: now, ExpiresAt: exp}, nil
}

// claims checks u and returns the claims of its token, without times.
func (q *QSEoW) claims(u QSEoWUser) (*claimSet, error) {
	s := &claimSet{claims: make([]engine.Claim, 0, 8+len(u.Attributes))}
	if err := checkQSEoWName(q.cfg.userIDClaim, "QSEoWUser.UserID", u.UserID); err != nil {
		return nil, err
	}
	if err := checkQSEoWName(q.cfg.userDirClaim, "QSEoWUser.UserDirectory", u.UserDirectory); err != nil {
		return nil, err
	}
	add := []struct {
		name, field string
		value       any
		skip        bool
	}{
		{q.cfg.userIDClaim, "QSEoWUser.UserID", u.UserID, false},
		{q.cfg.userDirClaim, "QSEoWUser.UserDirectory", u.UserDirectory, false},
		{"aud", "WithAudience", q.cfg.audience, q.cfg.audience == ""},
		{"name", "QSEoWUser.Name", u.Name, u.Name == ""},
		{"email", "QSEoWUser.Email", u.Email, u.Email == ""},
		{q.cfg.groupsClaim, "QSEoWUser.Groups", u.Groups, len(u.Groups) == 0},
	}
	for _, c := range add {
		if c.skip {
			continue
		}
		if err := s.add(c.name, c.field, c.value); err != nil {
			return nil, err
		}
	}
	if err := checkGroups(q.cfg.groupsClaim, "QSEoWUser.Groups", u.Groups); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(u.Attributes)) {
		field := fmt.Sprintf("QSEoWUser.Attributes[%q]", name)
		if why := checkClaimName(name); why != "" {
			return nil, &ClaimError{Claim: name, Field: field, Reason: "the attribute name " + why, Err: ErrInvalidClaim}
		}
		for _, c := range add {
			if c.name == name {
				return nil, &ClaimError{Claim: name, Field: field, Reason: "is the claim of " + c.field + "; give each claim once", Err: ErrInvalidClaim}
			}
		}
		v, err := attributeValue(name, field, u.Attributes[name])
		if err != nil {
			return nil, err
		}
		if err := s.add(name, field, v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkQSEoWName is the rule for the user ID and the user directory.
func checkQSEoWName(claim, field, v string) error {
	switch {
	case v == "":
		return &ClaimError{Claim: claim, Field: field, Reason: "is empty; the virtual proxy needs it", Err: ErrMissingClaim}
	case strings.TrimSpace(v) != v:
		return &ClaimError{Claim: claim, Field: field, Reason: "has leading or trailing white space; Qlik would see another user", Err: ErrInvalidClaim}
	case strings.Contains(v, `\`):
		return &ClaimError{Claim: claim, Field: field, Reason: `contains a backslash; the proxy joins directory and user ID as DIRECTORY\user`, Err: ErrInvalidClaim}
	}
	return nil
}

// checkGroups is the rule for group names in both variants.
func checkGroups(claim, field string, groups []string) error {
	for i, g := range groups {
		if strings.TrimSpace(g) == "" {
			return &ClaimError{Claim: claim, Field: fmt.Sprintf("%s[%d]", field, i), Reason: "a group name is empty", Err: ErrInvalidClaim}
		}
	}
	return nil
}

// attributeValue returns v if it can be a QSEoW attribute value.
func attributeValue(name, field string, v any) (any, error) {
	switch v := v.(type) {
	case string, bool, int, int32, int64, uint, uint32, uint64, float32, float64:
		return v, nil
	case []string:
		return v, nil
	case nil:
		return nil, &ClaimError{Claim: name, Field: field, Reason: "the attribute value is nil; leave the attribute out instead", Err: ErrInvalidClaim}
	default:
		return nil, &ClaimError{Claim: name, Field: field, Reason: fmt.Sprintf("the attribute value has type %T; give a string, []string, bool or number", v), Err: ErrInvalidClaim}
	}
}

// Format prints the configuration, never key material.
func (q *QSEoW) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.QSEoW{alg: %s, key: %s, userId: %q, userDirectory: %q, groups: %q, audience: %q, ttl: %v}",
		q.cfg.alg, describeKey(q.cfg.signer.Public()), q.cfg.userIDClaim, q.cfg.userDirClaim, q.cfg.groupsClaim, q.cfg.audience, q.cfg.ttl)
}
