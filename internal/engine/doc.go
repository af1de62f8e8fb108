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
// each library interleaved call by call with raw crypto/rsa, medians of 9
// rounds of 1 s timed by thread CPU time, 2-core AMD EPYC VM shared with
// other work (load average 6 to 8), go1.26.8, 2026-11-29:
//
//	sign, × raw rsa.SignPKCS1v15  qsjwt Cloud 0.980 (16 allocs), QSEoW 0.985 (18),
//	                              engine alone 0.994 (13); golang-jwt/v5 0.982 (63),
//	                              go-jose/v4 0.983 (121), jwx/v2 0.965 (149)
//	verify, × raw VerifyPKCS1v15  engine primitive alone 0.948 (10 allocs; raw: 9),
//	                              primitive + header and claims JSON parsed once 0.826 (34);
//	                              qsjwt verifier of today 0.581 (287); golang-jwt/v5 0.766 (99),
//	                              go-jose/v4 0.598 (210), jwx/v2 0.531 (321)
//
// Signing spends over 98 % of its time in the RSA operation whatever the
// library (a CPU profile of Cloud.Sign), so the sign ratios differ by less
// than this machine's noise (1 to 4 % between runs); the verify ratios repeat
// within 0.03. The command (scripts/bench.sh runs it after the package
// benchmarks):
//
//	cd bench && go run . -rounds 9 -time 1s -thread-cpu
//
// jwx stays for what it does well and as the independent cross-check:
// [ParseJWK] reads JSON Web Keys with it, and the tests and FuzzEncode
// require every token the encoder writes to verify and parse in jwx
// (jws.Verify, jwt.Parse) with its claims intact, and every token jwx signs
// to verify here.
package engine
