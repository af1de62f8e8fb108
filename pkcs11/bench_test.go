package pkcs11

import (
	"context"
	"testing"

	"github.com/qsjwt/qsjwt"
	"github.com/stretchr/testify/require"
)

// BenchmarkSignQSEoW signs QSEoW tokens with an RSA-2048 key in SoftHSM2
// from parallel goroutines (DefaultMaxSessions sessions).
func BenchmarkSignQSEoW(b *testing.B) {
	if hsmSkip != "" {
		b.Skip(hsmSkip)
	}
	require.NoError(b, hsmFailure)
	key, err := Open(hsmSetup.uri("rsa"))
	require.NoError(b, err)
	defer key.Close()
	q, err := qsjwt.NewQSEoW(key.Signer())
	require.NoError(b, err)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := q.Sign(context.Background(), alice); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
