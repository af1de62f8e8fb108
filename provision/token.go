package provision

import (
	"context"
	"time"

	"github.com/qsjwt/qsjwt"
)

// The doctor's tokens are made here and nowhere else, through qsjwt's
// builders.

func cloudToken(ctx context.Context, d CloudDoctor) (string, error) {
	var opts []qsjwt.CloudOption
	if d.Now != nil {
		opts = append(opts, qsjwt.WithClock(d.Now))
	}
	b, err := qsjwt.NewCloud(d.Signer, d.Issuer, d.KeyID, opts...)
	if err != nil {
		return "", err
	}
	t, err := b.Sign(ctx, d.User)
	return t.Raw, err
}

func qseowToken(ctx context.Context, d QSEoWDoctor) (string, error) {
	opts := []qsjwt.QSEoWOption{qsjwt.WithTTL(5 * time.Minute)}
	if d.Now != nil {
		opts = append(opts, qsjwt.WithClock(d.Now))
	}
	if d.Algorithm != "" {
		opts = append(opts, qsjwt.WithAlgorithm(qsjwt.Algorithm(d.Algorithm)))
	}
	if d.UserIDClaim != "" {
		opts = append(opts, qsjwt.WithUserIDClaim(d.UserIDClaim))
	}
	if d.UserDirectoryClaim != "" {
		opts = append(opts, qsjwt.WithUserDirectoryClaim(d.UserDirectoryClaim))
	}
	if d.GroupsClaim != "" {
		opts = append(opts, qsjwt.WithGroupsClaim(d.GroupsClaim))
	}
	if d.Audience != "" {
		opts = append(opts, qsjwt.WithAudience(d.Audience))
	}
	b, err := qsjwt.NewQSEoW(d.Signer, opts...)
	if err != nil {
		return "", err
	}
	t, err := b.Sign(ctx, d.User)
	return t.Raw, err
}
