// A real OAuth 2 server for Waygate's acceptance tests: oauth2-mock-server
// (authorization code + PKCE, client credentials, refresh tokens), plus a
// control and protected-API server in the same process.
//
// Usage: WAYGATE_OAUTH_MOCK_MODULES=<node_modules dir> node server.js
// Prints one JSON line: {"oauth": "http://127.0.0.1:P1", "api": "http://127.0.0.1:P2"}.
//
// Control endpoints (on "api"):
//   GET  /stats   -> {"counts": {"refresh_token": n, ...}, "requests": [{grant_type, code_verifier?, refresh_token?}]}
//   POST /config  JSON {"rotation": bool, "refreshToken": "initial", "invalidGrant": bool,
//                       "failNext": n (answer 503 to the next n token requests),
//                       "tokenDelayMs": n, "expiresIn": s}
// Protected API (on "api"): GET /api/whoami with "Authorization: Bearer <token>"
// answers 200 only for an access token this server issued and that has not expired.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.WAYGATE_OAUTH_MOCK_MODULES;
if (!modules) {
  console.error("set WAYGATE_OAUTH_MOCK_MODULES to the node_modules holding oauth2-mock-server");
  process.exit(2);
}
const pkgDir = path.join(modules, "oauth2-mock-server");
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
const entry = pkg.exports?.["."]?.import?.default ?? pkg.exports?.["."]?.import ?? pkg.main;
const { OAuth2Issuer, OAuth2Service } = await import(pathToFileURL(path.join(pkgDir, entry)).href);

const config = { rotation: false, invalidGrant: false, failNext: 0, tokenDelayMs: 0, expiresIn: 3600 };
let newestRefreshToken = null;
const counts = {};
const requests = [];
const issued = new Map(); // access token -> expiry (ms)

const issuer = new OAuth2Issuer();
await issuer.keys.generate("RS256");
const service = new OAuth2Service(issuer);

service.on("beforeResponse", (response, req) => {
  const body = req.body ?? {};
  const grant = body.grant_type;
  counts[grant] = (counts[grant] ?? 0) + 1;
  requests.push({
    grant_type: grant,
    code_verifier: body.code_verifier ?? null,
    refresh_token: body.refresh_token ?? null,
    basic_auth: (req.headers.authorization ?? "").startsWith("Basic "),
  });
  const refuse = () => {
    response.statusCode = 400;
    response.body = { error: "invalid_grant", error_description: "refused by the test server" };
  };
  if (config.failNext > 0) {
    config.failNext -= 1;
    response.statusCode = 503;
    response.body = { error: "temporarily_unavailable" };
    return;
  }
  if (config.invalidGrant && grant === "refresh_token") return refuse();
  if (grant === "refresh_token" && config.rotation && body.refresh_token !== newestRefreshToken) {
    return refuse();
  }
  response.body.expires_in = config.expiresIn;
  issued.set(response.body.access_token, Date.now() + config.expiresIn * 1000);
  if (response.body.refresh_token) newestRefreshToken = response.body.refresh_token;
});

const oauth = http.createServer((req, res) => {
  const handler = service.requestHandler;
  if (req.url.startsWith("/token") && config.tokenDelayMs > 0) {
    setTimeout(() => handler(req, res), config.tokenDelayMs);
  } else {
    handler(req, res);
  }
});

const json = (res, status, value) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
};

const api = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    return json(res, 200, { counts, requests });
  }
  if (req.method === "POST" && req.url === "/config") {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const update = JSON.parse(text || "{}");
      if ("refreshToken" in update) newestRefreshToken = update.refreshToken;
      delete update.refreshToken;
      Object.assign(config, update);
      json(res, 200, config);
    });
    return;
  }
  if (req.method === "GET" && req.url === "/api/whoami") {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const expiry = issued.get(token);
    if (expiry === undefined || expiry <= Date.now()) {
      return json(res, 401, { error: "invalid_token" });
    }
    return json(res, 200, { sub: "johndoe" });
  }
  json(res, 404, { error: "not_found" });
});

const listen = (server) =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
const oauthPort = await listen(oauth);
issuer.url = `http://127.0.0.1:${oauthPort}`;
const apiPort = await listen(api);
console.log(JSON.stringify({ oauth: `http://127.0.0.1:${oauthPort}`, api: `http://127.0.0.1:${apiPort}` }));

// Exit with the test process: it closes our stdin when it ends or is killed.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
