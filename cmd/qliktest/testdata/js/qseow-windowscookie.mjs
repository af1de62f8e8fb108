// QSEoW with a JWT virtual proxy, as Qlik documents it for @qlik/api:
// authType "windowscookie", host "<server>/<prefix>", getAccessToken
// returning a JWT. @qlik/api exchanges the token at
// <host>/qlik-embed/main.js for the proxy session cookie, reads the CSRF
// token at <host>/qps/csrftoken and opens the engine WebSocket, through
// enigma.js or, with input.autoResume, through @qlik/api's own JSON-RPC
// channel.
import { qix } from "@qlik/api";
import { input, main } from "./common.mjs";

await main(async () => {
  let tokens = 0;
  const hostConfig = {
    authType: "windowscookie",
    host: input.host,
    getAccessToken: async () => {
      tokens++;
      return input.token;
    },
  };
  const session = qix.openAppSession({ appId: input.appId, hostConfig, autoResume: !!input.autoResume });
  const doc = await session.getDoc();
  const layout = await doc.getAppLayout();
  const sheets = await doc.getSheetList();
  const user = await doc.global.getAuthenticatedUser();
  const version = await doc.global.engineVersion();
  await session.close();
  return {
    title: layout.qTitle,
    sheets: sheets.map((s) => s.qMeta.title),
    user,
    engineVersion: version.qComponentVersion,
    tokens,
  };
});
