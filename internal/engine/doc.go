// Package engine holds qsjwt's JWT hot paths and its JSON Web Key reader
// and writer, on the standard library alone. jwx
// (github.com/lestrrat-go/jwx/v2) is imported only by engine's tests and by
// enginetest, a package only tests import, as the independent cross-check.
//
// Two paths are built by hand, on the standard library alone:
//
//   - Signing: [AppendSigningInput] writes b64url(header).b64url(payload)
//     into one buffer, the claims in the caller's order, and
//     [AppendSignature] completes the token. jwx v2 writes private claim
//     names unescaped (a name such as `x":"1","userId` smuggles in a second
//     claim), silently replaces invalid UTF-8, and spends 149 allocations on
//     a Qlik Cloud token; the encoder escapes names and values alike, refuses
//     invalid UTF-8 and NaN/±Inf with a [*ClaimError], and spends one
//     allocation, the token's buffer (BenchmarkEncode: 1.5 µs, 1 alloc).
//   - Verifying: [ParseCompact] splits a compact JWS, refuses any byte
//     outside the base64url alphabet (padding, CR, LF and spaces, which
//     encoding/base64 would skip) and non-canonical encodings, and decodes
//     each segment once into one buffer; [Compact.VerifyRSA] checks the RSA
//     PKCS #1 v1.5 signature with crypto/rsa over exactly the received
//     segment1.segment2. jwx v2's compact jws.Verify rebuilds the signing
//     input from the decoded parts, so a re-encoded header (the same JSON
//     with spaces around it) or CR/LF inside a segment verified with the
//     original signature (issue 10.3). The primitive costs 10 allocations,
//     raw rsa.VerifyPKCS1v15 9 (BenchmarkVerifyCompact).
//
// Measured in one run against the peers, RS256-2048, one Qlik Cloud token,
// each library interleaved call by call with raw crypto/rsa, medians of 9
// rounds of 1 s timed by thread CPU time, 2-core AMD EPYC VM shared with
// other work (load average 6 to 8), go1.26.8, 2026-11-29:
//
//	sign, × raw rsa.SignPKCS1v15  qsjwt Cloud 0.980 (16 allocs), QSEoW 0.985 (18),
//	                              engine alone 0.994 (13); golang-jwt/v5 0.982 (63),
//	                              go-jose/v4 0.983 (121), jwx/v2 0.965 (149)
//
// Signing spends over 98 % of its time in the RSA operation whatever the
// library (a CPU profile of Cloud.Sign), so the sign ratios differ by less
// than this machine's noise (1 to 4 % between runs). The command
// (scripts/bench.sh runs it after the package benchmarks):
//
//	cd bench && go run . -rounds 9 -time 1s -thread-cpu
//
// The verifiers (qsjwt's verify*.go) are built on this primitive, with the
// header and the payload each read once by a hand-written JSON reader
// (encoding/json's Decoder spent an allocation per token and value).
// Measured the same way, 7 rounds of 1 s timed by the wall clock, load
// average 10 to 12, 2026-11-29 18:44 UTC, the qsjwt verifier checking every
// Qlik Cloud rule:
//
//	verify, × raw VerifyPKCS1v15  qsjwt Cloud verifier 0.889 (16 allocs; raw: 9),
//	                              engine primitive alone 0.957 (10);
//	                              golang-jwt/v5 0.769 (99), go-jose/v4 0.567 (210),
//	                              jwx/v2 0.472 (321)
//
// that is 1.16 × golang-jwt/v5's throughput (0.875 to 0.889 over the
// day's last three runs; the verifier before this rewrite: 0.52 to 0.58,
// 287 to 364 allocs). The primitive's alphabet scan is one lookup in a 256-bit set per
// byte. The command:
//
//	cd bench && go run . -rounds 7 -time 1s
//
// The JSON Web Key reader and writer ([ParseJWK], [PublicJWK],
// [ParseAssertionJWK], [AssertionJWK]) are built by hand too, because jwx's
// jwk package imports github.com/lestrrat-go/httprc, which links net/http
// and crypto/tls, with all they import, into every program that imports
// qsjwt, even one that only signs a token. Measured before and after the
// rewrite (ParseJWK and PublicJWK were on jwx), go1.26.8 linux/amd64,
// 2026-11-29: a program that imports qsjwt, makes a Cloud builder with
// NewCloud and signs one token builds to a stripped static binary of
// 4,452,514 bytes with jwx and 3,539,106 without (20 % less), and
// `go list -deps github.com/qsjwt/qsjwt` lists 218 packages with jwx and
// 161 without. The binary was built with
//
//	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w"
//
// The qs-jwt command paid the same on every start, since Go initialises
// every linked package before main: with jwx out of qsjwt and the online
// commands out of qs-jwt (internal/cli's Main), one create-qscloud went from
// 4.52 ms to 4.09 ms, median of 300 runs interleaved with a minimal Go
// program that reads the key and signs the same token by hand in 3.55 ms
// (2026-11-29 20:10 UTC, the 2-core VM at load 0.9).
//
// TestSigningImportsNoNetwork (in package qsjwt) fails if net/http,
// crypto/tls or anything of github.com/lestrrat-go comes back. The reader
// is stricter than jwx was where RFC 7517 and 7518 say MUST (ParseJWK's
// doc lists where).
//
// jwx stays as the independent cross-check, in the tests: they and
// FuzzEncode require every token the encoder writes to verify and parse in
// jwx (jws.Verify, jwt.Parse) with its claims intact, and every token jwx
// signs to verify here; every JWK PublicJWK writes must be byte for byte the
// one jwx writes and read in jwx to the same key, every JWK jwx writes for
// a public key must read here to the key jwx reads, and FuzzParseJWK
// requires every JWK ParseJWK accepts to read in jwx to an equal key.
package engine
