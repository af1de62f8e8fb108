// Qlik Cloud with enigma.js in Node after a JWT login: POST
// /login/jwt-session with the token, keep the cookies, read the CSRF token,
// open the engine WebSocket with the cookies and ?qlik-csrf-token=.
import { createRequire } from "node:module";
import enigma from "enigma.js";
import WebSocket from "ws";
import { input, main } from "./common.mjs";

const schema = createRequire(import.meta.url)("enigma.js/schemas/12.2027.0.json");

await main(async () => {
  const login = await fetch(`${input.host}/login/jwt-session`, {
    method: "POST",
    headers: { Authorization: `Bearer ${input.token}` },
  });
  if (login.status !== 200) throw Object.assign(new Error(`login: ${login.status} ${await login.text()}`), { status: login.status });
  const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const csrfResp = await fetch(`${input.host}/api/v1/csrf-token`, { headers: { Cookie: cookie } });
  const csrf = csrfResp.headers.get("qlik-csrf-token");
  if (!csrf) throw Object.assign(new Error(`csrf-token: ${csrfResp.status}`), { status: csrfResp.status });

  const url = `${input.host.replace(/^http/, "ws")}/app/${input.appId}?qlik-csrf-token=${encodeURIComponent(csrf)}`;
  const session = enigma.create({
    schema,
    url,
    createSocket: (u) => new WebSocket(u, { headers: { Cookie: cookie } }),
  });
  let sessionState;
  session.on("notification:OnConnected", (p) => {
    sessionState = p.qSessionState;
  });
  const global = await session.open();
  const version = await global.engineVersion();
  const doc = await global.openDoc(input.appId);
  const layout = await doc.getAppLayout();
  const again = await doc.getAppLayout(); // the delta protocol's "unchanged"
  const sheets = await doc.getObjects({ qTypes: ["sheet"], qData: { title: "/qMetaDef/title" } });
  let unknownMethod;
  try {
    await doc.getVariableByName("vNothing");
  } catch (err) {
    unknownMethod = { code: err.code, message: err.message };
  }
  await session.close();
  return {
    sessionState,
    engineVersion: version.qComponentVersion,
    title: layout.qTitle,
    sameLayoutAgain: JSON.stringify(again) === JSON.stringify(layout),
    sheets: sheets.map((s) => s.qData.title),
    unknownMethod,
  };
});
