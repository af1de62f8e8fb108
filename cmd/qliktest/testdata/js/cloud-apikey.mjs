// Qlik Cloud with a tenant admin's API key: list the identity providers.
import { getIdps } from "@qlik/api/identity-providers";
import { input, main } from "./common.mjs";

await main(async () => {
  const hostConfig = { authType: "apikey", host: input.host, apiKey: input.apiKey };
  const { status, data } = await getIdps({}, { hostConfig });
  return {
    status,
    idps: data.data.map((p) => ({ protocol: p.protocol, issuer: p.options?.issuer, kid: p.options?.staticKeys?.[0]?.kid })),
  };
});
