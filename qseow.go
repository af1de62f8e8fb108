package qsjwt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qsjwt/qsjwt/internal/engine"
)

// Defaults for QSEoW tokens.
const (
	DefaultUserIDClaim        = "userId"
	DefaultUserDirectoryClaim = "userDirectory"
	DefaultGroupsClaim        = "group"
	defaultQSEoWTTL           = time.Hour
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

// NewQSEoW checks the signer and the options and returns a QSEoW token
// builder. With no option it signs RS256 tokens valid for one hour with the
// claims userId, userDirectory and group and no audience. Every problem is
// reported at once, each an [*OptionError] naming the option (or "signer")
// that fixes it; a signer whose key Qlik cannot use also matches [ErrKey].
// Nil options are ignored.
func NewQSEoW(signer Signer, opts ...QSEoWOption) (*QSEoW, error) {
	cfg := defaultQSEoWConfig()
	cfg.checkSigner(signer)
	for _, o := range opts {
		if o != nil {
			o.applyQSEoW(&cfg)
		}
	}
	cfg.checkClaimNames()
	if cfg.ttl > maxQSEoWTTL {
		cfg.fail("WithTTL", "the lifetime %v is over ten years (%v); give a lifetime such as time.Hour", cfg.ttl, maxQSEoWTTL)
	}
	if err := cfg.finish(defaultQSEoWTTL); err != nil {
		return nil, err
	}
	return &QSEoW{cfg: cfg}, nil
}

func defaultQSEoWConfig() qseowConfig {
	return qseowConfig{
		alg:          RS256,
		userIDClaim:  DefaultUserIDClaim,
		userDirClaim: DefaultUserDirectoryClaim,
		groupsClaim:  DefaultGroupsClaim,
	}
}

// checkClaimNames checks the rule that spans the claim name options.
func (cfg *qseowConfig) checkClaimNames() {
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
}

// Algorithm returns the algorithm the tokens are signed with.
func (q *QSEoW) Algorithm() Algorithm { return q.cfg.alg }

// Sign checks u against the QSEoW rules and returns a signed token. Claims
// the rules refuse give one [*ClaimError] each, joined with errors.Join; a
// clock whose time cannot be written gives an [*OptionError]; a failing
// signer an error wrapping [ErrSigner], or ctx's error when ctx ended.
func (q *QSEoW) Sign(ctx context.Context, u QSEoWUser) (Token, error) {
	claims, err := q.claims(u)
	if err != nil {
		return Token{}, err
	}
	iat, _, exp, err := tokenTimes(q.cfg.now(), q.cfg.ttl, 0)
	if err != nil {
		return Token{}, err
	}
	claims.claims = append(claims.claims, engine.Claim{Name: "iat", Value: iat}, engine.Claim{Name: "exp", Value: exp})
	raw, err := q.cfg.sign(ctx, q.cfg.alg, "", claims.claims)
	if err != nil {
		return Token{}, err
	}
	return Token{Raw: raw, IssuedAt: iat, ExpiresAt: exp}, nil
}

// claims checks u and returns the claims of its token, without times, or
// every problem found, joined.
func (q *QSEoW) claims(u QSEoWUser) (*claimSet, error) {
	s := &claimSet{claims: make([]engine.Claim, 0, 8+len(u.Attributes))}
	var errs []error
	report := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	report(checkQSEoWName(q.cfg.userIDClaim, "QSEoWUser.UserID", u.UserID))
	report(checkQSEoWName(q.cfg.userDirClaim, "QSEoWUser.UserDirectory", u.UserDirectory))
	report(checkOptional("name", "QSEoWUser.Name", u.Name))
	report(checkOptional("email", "QSEoWUser.Email", u.Email))
	report(checkGroups(q.cfg.groupsClaim, "QSEoWUser.Groups", u.Groups))
	add := []claimField{
		{q.cfg.userIDClaim, "QSEoWUser.UserID", u.UserID, false},
		{q.cfg.userDirClaim, "QSEoWUser.UserDirectory", u.UserDirectory, false},
		{"aud", "WithAudience", q.cfg.audience, q.cfg.audience == ""},
		{"name", "QSEoWUser.Name", u.Name, u.Name == ""},
		{"email", "QSEoWUser.Email", u.Email, u.Email == ""},
		{q.cfg.groupsClaim, "QSEoWUser.Groups", u.Groups, len(u.Groups) == 0},
	}
	for _, c := range add {
		if !c.skip {
			report(s.add(c.name, c.field, c.value))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(u.Attributes)) {
		field := fmt.Sprintf("QSEoWUser.Attributes[%s]", quoteValue(name))
		if why := checkClaimName(name); why != "" {
			errs = append(errs, &ClaimError{Claim: claimName(name), Field: field, Reason: "the attribute name " + why, err: errInvalidClaim})
			continue
		}
		if i := slices.IndexFunc(add, func(c claimField) bool { return c.name == name }); i >= 0 {
			errs = append(errs, &ClaimError{Claim: name, Field: field, Reason: "is the claim of " + add[i].field + "; give each claim once", err: errInvalidClaim})
			continue
		}
		v, err := attributeValue(name, field, u.Attributes[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		report(s.add(name, field, v))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// claimField is a claim of a QSEoW token and the field or option it comes
// from; skip leaves out an optional one that is empty.
type claimField struct {
	name, field string
	value       any
	skip        bool
}

// claimName returns name for a ClaimError's Claim, or a description when it
// is not valid UTF-8.
func claimName(name string) string {
	if !utf8.ValidString(name) {
		return "(not UTF-8)"
	}
	return name
}

// checkQSEoWName is the rule for the user ID and the user directory.
func checkQSEoWName(claim, field, v string) error {
	switch {
	case v == "":
		return &ClaimError{Claim: claim, Field: field, Reason: "is empty; the virtual proxy needs it", err: errMissingClaim}
	case !utf8.ValidString(v):
		return &ClaimError{Claim: claim, Field: field, Reason: invalidUTF8, err: errInvalidClaim}
	case strings.TrimSpace(v) != v:
		return &ClaimError{Claim: claim, Field: field, Reason: "has leading or trailing white space; Qlik would see another user", err: errInvalidClaim}
	case strings.Contains(v, `\`):
		return &ClaimError{Claim: claim, Field: field, Reason: `contains a backslash; the proxy joins directory and user ID as DIRECTORY\user`, err: errInvalidClaim}
	}
	return nil
}

// checkOptional is the rule for an optional string claim: valid UTF-8.
func checkOptional(claim, field, v string) error {
	if !utf8.ValidString(v) {
		return &ClaimError{Claim: claim, Field: field, Reason: invalidUTF8, err: errInvalidClaim}
	}
	return nil
}

// checkGroups is the rule for group names in both variants; it returns
// every problem, joined.
func checkGroups(claim, field string, groups []string) error {
	var errs []error
	for i, g := range groups {
		reason := ""
		switch {
		case !utf8.ValidString(g):
			reason = "the group name " + invalidUTF8
		case strings.TrimSpace(g) == "":
			reason = "a group name is empty"
		default:
			continue // a good name costs nothing: verifiers call this per token
		}
		errs = append(errs, &ClaimError{Claim: claim, Field: fmt.Sprintf("%s[%d]", field, i), Reason: reason, err: errInvalidClaim})
	}
	return errors.Join(errs...)
}

// attributeValue returns v if it can be a QSEoW attribute value: a value
// JSON can write exactly.
func attributeValue(name, field string, v any) (any, error) {
	refuse := func(format string, args ...any) (any, error) {
		return nil, &ClaimError{Claim: name, Field: field, Reason: fmt.Sprintf(format, args...), err: errInvalidClaim}
	}
	switch v := v.(type) {
	case bool, int, int32, int64, uint, uint32, uint64:
		return v, nil
	case float32:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return refuse("the attribute value is %v, which JSON cannot write; give a finite number", v)
		}
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return refuse("the attribute value is %v, which JSON cannot write; give a finite number", v)
		}
		return v, nil
	case string:
		if !utf8.ValidString(v) {
			return refuse("the attribute value %s", invalidUTF8)
		}
		return v, nil
	case []string:
		for i, s := range v {
			if !utf8.ValidString(s) {
				return refuse("element %d of the attribute value %s", i, invalidUTF8)
			}
		}
		return v, nil
	case nil:
		return refuse("the attribute value is nil; leave the attribute out instead")
	default:
		return refuse("the attribute value has type %T; give a string, []string, bool or number", v)
	}
}

// Format prints the configuration, never key material.
func (q *QSEoW) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "qsjwt.QSEoW{alg: %s, key: %s, userId: %q, userDirectory: %q, groups: %q, audience: %q, ttl: %v}",
		q.cfg.alg, describeKey(q.cfg.signer.Public()), q.cfg.userIDClaim, q.cfg.userDirClaim, q.cfg.groupsClaim, q.cfg.audience, q.cfg.ttl)
}

// joinedErrors returns the errors errors.Join put together in err, err
// alone, or none for nil.
func joinedErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}
