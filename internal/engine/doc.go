// Package engine holds qsjwt's JWT hot paths, and is the one place that
// imports jwx (github.com/lestrrat-go/jwx/v2).
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
// each library interleaved call by call with raw crypto/rsa, medians of 7
// rounds timed by thread CPU time, 2-core AMD EPYC VM shared with other work
// (load average 7 to 9), go1.26.8:
//
//	sign, × raw rsa.SignPKCS1v15   qsjwt Cloud 0.991 (16 allocs), QSEoW 0.953 (18),
//	                               engine alone 1.001 (13); golang-jwt/v5 0.987 (63),
//	                               go-jose/v4 0.968 (121), jwx/v2 0.968 (149)
//	verify, × raw VerifyPKCS1v15   engine primitive + one claims JSON parse 0.821 (34 allocs);
//	                               qsjwt verifier of today 0.604 (287); golang-jwt/v5 0.780 (99),
//	                               go-jose/v4 0.599 (210), jwx/v2 0.534 (321)
//
// Signing spends over 98 % of its time in the RSA operation whatever the
// library, so the sign ratios differ by less than this machine's noise
// (about ±4 % between runs); the verify ratios repeat within 0.02. The
// command (scripts/bench.sh runs it after the package benchmarks):
//
//	cd bench && go run . -rounds 7 -time 1s -thread-cpu
//
// jwx stays for what it does well and as the independent cross-check:
// [ParseJWK] reads JSON Web Keys with it, and the tests and FuzzEncode
// require every token the encoder writes to verify and parse in jwx
// (jws.Verify, jwt.Parse) with its claims intact, and every token jwx signs
// to verify here.
package engine
