// Shared by the scripts TestQlikJSClients runs: the input comes from the
// environment (never argv, so that no process list shows the token), the
// answer is one JSON line on stdout, a failure is {"error": …} and exit 1.
// By hand, against `go run ./cmd/qliktest` once it is set up:
//   npm ci
//   NODE_EXTRA_CA_CERTS=<caFile> QSJWT_JS_INPUT='{"host":"<qseow url>/jwt","token":"<jwt>","appId":"<appId>"}' \
//     node qseow-windowscookie.mjs
export const input = JSON.parse(process.env.QSJWT_JS_INPUT ?? "{}");

export async function main(run) {
  try {
    const out = await run();
    process.stdout.write(JSON.stringify(out) + "\n");
    process.exit(0);
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: { message: String(err?.message ?? err), status: err?.status, code: err?.code } }) + "\n");
    process.exit(1);
  }
}
