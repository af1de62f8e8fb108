// Qlik Cloud with an OAuth client, as Qlik documents it for @qlik/api in
// Node (authType "oauth2", clientId and clientSecret): the client's own
// token (client credentials) reads /api/v1/users/me and creates the user to
// impersonate (impersonation needs an existing user); with input.subject
// set, hostConfig.subject makes @qlik/api impersonate that user
// (urn:qlik:oauth:user-impersonation), and the user reads /api/v1/users/me
// and opens the app over the engine WebSocket with the Bearer token.
import { qix } from "@qlik/api";
import { createUser, getMyUser } from "@qlik/api/users";
import { input, main } from "./common.mjs";

await main(async () => {
  const client = { authType: "oauth2", host: input.host, clientId: input.clientId, clientSecret: input.clientSecret };
  const own = await getMyUser({ hostConfig: client });
  const out = { client: { status: own.status, subject: own.data.subject, name: own.data.name } };
  if (!input.subject) return out;

  if (!input.skipCreate) {
    const created = await createUser({ subject: input.subject, name: input.name, email: input.email }, { hostConfig: client });
    out.created = { status: created.status, subject: created.data.subject };
  }

  const hostConfig = { ...client, subject: input.subject };
  const me = await getMyUser({ hostConfig });
  out.impersonated = { status: me.status, subject: me.data.subject, name: me.data.name, email: me.data.email };
  const session = qix.openAppSession({ appId: input.appId, hostConfig });
  const doc = await session.getDoc();
  const layout = await doc.getAppLayout();
  await session.close();
  out.title = layout.qTitle;
  return out;
});
