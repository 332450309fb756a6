// Dashboard acceptance in a real browser (issue 17). Run by run.sh, which
// starts `waygate serve`; this script starts the local upstream, creates a
// tenant, and drives Debian's Chromium with playwright-core:
//   sign in → wizard with the Petstore-expanded fixture → connection →
//   Try it against the local upstream → response and timing → the call in Logs;
//   the wizard's test step; Try it through the schema form; a call's log page;
//   a docs URL scraped with a live progress bar into the review;
//   OAuth2 from the integration page: Connect → the provider (a real OAuth
//   server, oauth2-mock-server) → the callback → back, connected with the
//   token's expiry; then Refresh token renews it;
//   the action browser filters Slack's 174 actions by typing; its tool
//   export loaded on demand and copied; Try it's input carried between the
//   form and the raw JSON;
//   sign-in and Try it with the keyboard alone (Tab, typing, Enter);
//   axe-core on every page, light and dark: no serious or critical violation;
//   at 640 px wide no page scrolls sideways (sign-in included);
//   no console error; a screenshot of each page in OUT; page weights printed.
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(path.join(process.env.NODE_PATH, "noop.js"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const base = process.env.WAYGATE_URL;
const out = process.env.OUT;
let passed = 0;
let failed = 0;
const failures = [];

function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    failures.push(`${name}: ${detail}`);
    console.log(`not ok - ${name} ${detail}`);
  }
}

// The local upstream: the Petstore-expanded API, answering what its spec says.
const pets = [{ id: 1, name: "Rex", tag: "dog" }, { id: 2, name: "Tom", tag: "cat" }];
let upstreamCalls = 0;
let lastQuery = new URLSearchParams();
const upstream = http.createServer((req, res) => {
  upstreamCalls++;
  const url = new URL(req.url, "http://x");
  lastQuery = url.searchParams;
  res.setHeader("content-type", "application/json");
  if (req.method === "GET" && url.pathname === "/api/pets") {
    res.end(JSON.stringify(pets));
  } else if (req.method === "GET" && /^\/api\/pets\/\d+$/.test(url.pathname)) {
    const pet = pets.find((p) => String(p.id) === url.pathname.split("/").pop());
    res.statusCode = pet ? 200 : 404;
    res.end(JSON.stringify(pet ?? { code: 404, message: "no such pet" }));
  } else {
    res.statusCode = 404;
    res.end(JSON.stringify({ code: 404, message: "not here" }));
  }
});
await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}/api`;

async function api(method, p, key, body) {
  const r = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// A documentation site: two OpenSearch reference pages served by docsite.py.
const docsDir = mkdtempSync(path.join(os.tmpdir(), "waygate-docs-"));
for (const p of ["_api-reference/index-apis/close-index.md", "_api-reference/cat/cat-indices.md"]) {
  cpSync(path.join(process.env.DOCS, p), path.join(docsDir, p), { recursive: true });
}
const docsPort = await new Promise((r) => {
  const probe = http.createServer().listen(0, "127.0.0.1", () => { const p = probe.address().port; probe.close(() => r(p)); });
});
const docsite = spawn("python3", [process.env.DOCSITE, docsDir, String(docsPort)], { stdio: "ignore" });
const docsUrl = `http://127.0.0.1:${docsPort}/`;
for (let i = 0; i < 100; i++) {
  try { await fetch(docsUrl); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
}

// The OAuth 2 provider: oauth2-mock-server through tests/oauth/server.js, as
// the Rust OAuth tests run it; it approves every authorization at once. It
// prints its two addresses, then lives until its stdin closes.
const provider = spawn("node", [fileURLToPath(new URL("../oauth/server.js", import.meta.url))], {
  env: { ...process.env, WAYGATE_OAUTH_MOCK_MODULES: process.env.OAUTH_MOCK_MODULES },
  stdio: ["pipe", "pipe", "inherit"],
});
const oauth = await new Promise((resolve, reject) => {
  let text = "";
  provider.stdout.on("data", (chunk) => {
    text += chunk;
    if (text.includes("\n")) resolve(JSON.parse(text.slice(0, text.indexOf("\n"))));
  });
  provider.on("exit", (code) => reject(new Error(`the OAuth server exited (${code}) before it listened`)));
});
async function providerStats() {
  return (await fetch(`${oauth.api}/stats`)).json();
}

const created = await api("POST", "/api/v1/tenants", process.env.WAYGATE_ADMIN_KEY, { name: "acceptance" });
const key = created.apiKey;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--no-sandbox"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
const page = await context.newPage();
const consoleErrors = [];
// The one refusal the journey asks for (JSON that does not fit Try it's
// form answers 400, which Chromium logs) is expected, and nothing else.
let refusalExpected = false;
page.on("console", (m) => {
  if (m.type() !== "error") return;
  if (refusalExpected && m.text().includes("status of 400") && m.location().url.endsWith("/input")) return;
  consoleErrors.push(`${page.url()}: ${m.text()}`);
});
page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));

// axe in light and dark, and a screenshot of each.
async function audit(name) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate(axeSource);
    const result = await page.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    check(
      `axe ${name} (${scheme}): no serious or critical violation`,
      bad.length === 0,
      JSON.stringify(bad.map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }))),
    );
    await page.screenshot({ path: path.join(out, `${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

// Presses Tab until `matches(document.activeElement)` holds (at most `limit`
// times); says whether it got there.
async function tabTo(predicate, arg, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(predicate, arg)) return true;
  }
  return false;
}

// The pages visited, for the 640 px pass and the weights.
const visited = new Map();
function remember(name) { visited.set(name, page.url()); }

try {
  // Sign in with the keyboard alone.
  await page.goto(base + "/signin");
  await audit("signin");
  remember("signin");
  const atKey = await tabTo(() => document.activeElement?.id === "apiKey");
  check("keyboard: Tab reaches the API key field", atKey);
  await page.keyboard.type(key);
  await page.keyboard.press("Enter");
  await page.waitForURL(base + "/");
  check("sign-in lands on the empty home", (await page.textContent("main")).includes("Create your first integration"));
  await audit("home-empty");
  remember("home-empty");

  // Wizard: upload the Petstore-expanded document.
  await page.click("text=Create your first integration >> nth=-1");
  await page.waitForURL(base + "/integrations/new");
  await audit("wizard-source");
  remember("wizard-source");
  await page.setInputFiles("#file", process.env.PETSTORE);
  await page.waitForFunction(() => document.querySelector("#document").value.includes("findPets"));
  await page.click("button:has-text('Detect actions')");
  await page.waitForSelector("text=Review");
  const boxes = await page.locator("input[name=select]").count();
  check("review lists the four Petstore actions", boxes === 4, `found ${boxes}`);
  await page.fill("#baseUrl", upstreamUrl);
  await audit("wizard-review");
  await page.click("button:has-text('Save integration')");
  await page.waitForURL(/\/connections\/new\?wizard=1$/);
  await audit("connection-new");
  await page.click("button:has-text('Save connection')");

  // The wizard's test step: a read-only action through the new connection.
  await page.waitForURL(/\/integrations\/[a-z0-9-]+\/test\?connection=default$/);
  const slug = new URL(page.url()).pathname.split("/")[2];
  const testing = upstreamCalls;
  await page.click("button:has-text('Test connection')");
  await page.waitForSelector("#try-answer");
  check("the test step answers HTTP 200", (await page.textContent("#try-answer")).includes("HTTP 200"));
  check("the test step called the upstream", upstreamCalls === testing + 1, `${upstreamCalls - testing} calls`);
  await audit("wizard-test");
  remember("wizard-test");
  await page.click("a:has-text('Finish')");
  await page.waitForURL(/\/integrations\/[a-z0-9-]+\?done=connected$/);
  check("the connection is listed", (await page.textContent("#connections + *, main")).includes("default"));
  await audit("integration");
  remember("integration");

  // Try it: findPets against the local upstream, with the keyboard alone:
  // the schema form's integer field, then Enter on Send.
  await page.click("a:has-text('findPets'), a[href$='/actions/findPets']");
  await page.waitForURL(/\/actions\/findPets$/);
  remember("action");
  check("Try it offers the schema form", (await page.locator("input[name='in/limit'][type=number]").count()) === 1);
  check("Try it keeps the raw JSON toggle", (await page.locator("#mode-json").count()) === 1);
  const before = upstreamCalls;
  await page.evaluate(() => document.activeElement?.blur());
  const atLimit = await tabTo(() => document.activeElement?.name === "in/limit");
  check("keyboard: Tab reaches the limit field", atLimit);
  await page.keyboard.type("1");
  const atSend = await tabTo(() => document.activeElement?.textContent?.trim() === "Send", undefined, 20);
  check("keyboard: Tab reaches Send", atSend);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#try-answer");
  const answer = await page.textContent("#try-answer");
  check("Try it answers HTTP 200", answer.includes("HTTP 200"), answer.slice(0, 300));
  check("Try it shows the attempts", (await page.textContent("#try-attempts")).trim() === "1");
  check("Try it shows the timing", /\d+ ms/.test(await page.textContent("#try-duration")));
  check("Try it shows the response", (await page.textContent("#try-body")).includes("Rex"));
  check("the upstream was called once", upstreamCalls === before + 1, `${upstreamCalls - before} calls`);
  check("the form's integer went upstream as the limit", lastQuery.get("limit") === "1", lastQuery.toString());
  await audit("action-try");

  // The raw JSON toggle: the form's input is carried into the text area,
  // and the text area's input is sent instead.
  await page.check("#mode-json");
  const carried = await page.waitForFunction(() => {
    const area = document.querySelector("#input");
    return !area.readOnly && /"limit": 1\b/.test(area.value) && area.value;
  }, undefined, { timeout: 5000 }).then((h) => h.jsonValue(), (e) => e.message);
  check("switching to JSON carries the form's input over", /"limit": 1\b/.test(carried), carried);
  check("the JSON toggle shows the text area", await page.isVisible("#input"));
  check("the JSON toggle hides the form", !(await page.isVisible("input[name='in/limit']")));
  await page.fill("#input", '{"limit": 2}');
  // The previous answer goes first, so the wait below sees this call's.
  await page.evaluate(() => { document.querySelector("#try-result").textContent = ""; });
  await page.click("button:has-text('Send')");
  await page.waitForFunction(() => document.querySelector("#try-body")?.textContent.includes("Rex"));
  check("the raw JSON went upstream", lastQuery.get("limit") === "2", lastQuery.toString());
  // Back to the form: the JSON's values fill its fields.
  await page.check("#mode-form");
  await page.waitForFunction(() => document.querySelector("input[name='in/limit']").value === "2", undefined, { timeout: 5000 }).catch(() => {});
  check("switching to the form carries the JSON over", (await page.inputValue("input[name='in/limit']")) === "2");
  // JSON that does not fit the form keeps its mode and says why.
  await page.check("#mode-json");
  await page.fill("#input", '{"limit": 2, "colour": "red"}');
  refusalExpected = true;
  // A click, not check(): the toggle is meant to spring back to JSON.
  await page.click("#mode-form");
  await page.waitForSelector("#mode-error:not([hidden])", { timeout: 5000 }).catch(() => {});
  refusalExpected = false;
  check("JSON that does not fit the form stays JSON", await page.isChecked("#mode-json"));
  check("and the reason is shown", (await page.textContent("#mode-error")).includes("input/colour"));
  await page.fill("#input", '{"limit": 2}');

  // The call appears in Logs (the log is written in batches: reload until it shows).
  let logged = false;
  for (let i = 0; i < 40 && !logged; i++) {
    await page.goto(base + "/logs");
    logged = (await page.textContent("#log-list")).includes(`${slug}.findPets`);
    if (!logged) await page.waitForTimeout(250);
  }
  check("the call appears in Logs", logged);
  await audit("logs");
  remember("logs");
  await page.click(`#log-list a:has-text("${slug}.findPets") >> nth=0`);
  await page.waitForURL(/\/logs\/[^/]+$/);
  check("the log page shows the sanitized request", (await page.textContent("#log-request")).includes("/api/pets"));
  check("the log page shows the attempts", (await page.textContent("#log-attempts")).trim() === "1");
  await audit("log-detail");
  remember("log-detail");

  // A docs URL (not a spec): a scrape job with a live progress bar, then the review.
  await page.goto(base + "/integrations/new");
  await page.fill("#docs", docsUrl);
  await page.click("button:has-text('Read the documentation')");
  await page.waitForURL(/\/integrations\/new\/scrape\/[^/]+$/);
  check("the scrape shows a progress bar", (await page.locator("#scrape-bar").count()) === 1);
  await audit("wizard-scrape");
  remember("wizard-scrape");
  await page.waitForURL(/\/integrations\/new\/scrape\/[^/]+\/review$/, { timeout: 90000 });
  const drafted = await page.locator("input[name=select]").count();
  check("the draft goes to the review", drafted >= 2, `found ${drafted}`);
  await audit("wizard-review-draft");

  // OAuth2 in the browser: the integration page's Connect → the forwarding
  // page → the provider (it approves at once) → the gateway's callback →
  // back to the integration page, connected, with the token's expiry.
  await api("POST", "/api/v1/integrations", key, {
    slug: "oauthy", name: "OAuthy", baseUrl: oauth.api,
    auth: {
      type: "oauth2", flows: ["authorization_code"], scopes: ["read"], pkce: true,
      authorizationUrl: `${oauth.oauth}/authorize`, tokenUrl: `${oauth.oauth}/token`,
    },
    actions: [{ slug: "whoami", method: "GET", path: "/api/whoami" }],
  });
  await page.goto(base + "/integrations/oauthy");
  await page.click("a:has-text('Connect with OAuth')");
  await page.waitForURL(base + "/integrations/oauthy/connections/new");
  check("an OAuth2 connection form offers Connect", (await page.locator("button:text-is('Connect')").count()) === 1);
  await audit("connection-oauth");
  remember("connection-oauth");
  await page.fill("#oauth-clientId", "dashboard-client");
  await page.fill("#oauth-clientSecret", "dashboard-client-secret");
  // Every document the browser asks for on the way, redirects included.
  const hops = [];
  const onRequest = (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) hops.push(r.url()); };
  page.on("request", onRequest);
  await page.click("button:text-is('Connect')");
  await page.waitForURL(base + "/integrations/oauthy?done=authorized");
  page.off("request", onRequest);
  const hop = (prefix) => hops.findIndex((u) => u.startsWith(prefix));
  const order = [base + "/integrations/oauthy/connect", `${oauth.oauth}/authorize?`, base + "/oauth/callback?", base + "/integrations/oauthy?done=authorized"].map(hop);
  check("Connect goes to the provider, its callback, and back", order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1])), hops.join(" → "));
  const exchange = (await providerStats()).requests.find((r) => r.grant_type === "authorization_code");
  check("the provider exchanged the code with the PKCE verifier", (exchange?.code_verifier ?? "").length >= 43, JSON.stringify(exchange));
  check("the page says the connection is authorized", (await page.textContent(".toast")).includes("Connection authorized."));
  const row = page.locator("table tr", { has: page.locator("td.mono", { hasText: "default" }) });
  check("the connection is active", (await row.locator(".badge").textContent()).trim() === "active");
  check("the connection holds OAuth2 tokens", (await row.textContent()).includes("oauth2_tokens"));
  const expiry = async () => Date.parse(await row.locator("time").getAttribute("datetime"));
  const expires = await expiry();
  const hour = Date.now() + 3600e3;
  check("the connection shows the token's expiry (in an hour)", Math.abs(expires - hour) < 120e3, `${new Date(expires).toISOString()}`);
  check("the client secret is not shown", !(await page.content()).includes("dashboard-client-secret"));
  await audit("integration-oauth");
  remember("integration-oauth");

  // Refresh token: the provider now grants two hours, so the expiry moves.
  await fetch(`${oauth.api}/config`, { method: "POST", body: JSON.stringify({ expiresIn: 7200 }) });
  const refreshes = (await providerStats()).counts.refresh_token ?? 0;
  await page.click("button:has-text('Refresh token')");
  await page.waitForURL(base + "/integrations/oauthy?done=refreshed");
  check("the page says the token was refreshed", (await page.textContent(".toast")).includes("Token refreshed."));
  check("the provider refreshed the token once", (await providerStats()).counts.refresh_token === refreshes + 1);
  const renewed = await expiry();
  check("the refreshed token's expiry is an hour later", Math.abs(renewed - expires - 3600e3) < 120e3, `${new Date(expires).toISOString()} → ${new Date(renewed).toISOString()}`);

  // Slack's 174 actions, filtered by typing.
  const slack = JSON.parse(readFileSync(process.env.SLACK, "utf8"));
  await api("POST", "/api/v1/integrations/import", key, { openapi: slack, slug: "slack", baseUrl: upstreamUrl });
  await page.goto(base + "/integrations/slack");
  const total = await page.locator("#action-list li").count();
  check("Slack's 174 actions are listed", total === 174, `found ${total}`);
  const started = Date.now();
  await page.locator("#action-filter").pressSequentially("chat post", { delay: 20 });
  const visible = await page.locator("#action-list li:visible").count();
  const shown = await page.textContent("#action-count");
  check("typing filters the actions", visible > 0 && visible < 10 && shown === String(visible), `${visible} visible, count ${shown}`);
  check("the filter keeps chat.postMessage", (await page.locator("#action-list li:visible").allTextContents()).some((t) => t.includes("/chat.postMessage")));
  console.log(`# filtering 174 actions while typing 9 characters took ${Date.now() - started} ms`);
  await page.fill("#action-filter", "");
  await audit("integration-slack");
  remember("integration-slack");
  await page.click("a:has-text('Agents')");
  await page.waitForURL(/\/integrations\/slack\/agents$/);
  check("agents shows the MCP endpoint", (await page.textContent("#mcp-url")).endsWith("/mcp?integrations=slack"));
  check("agents loads no tool definition up front", (await page.locator("#tools-openai").count()) === 0);
  await page.click("button:has-text('Show OpenAI tools')");
  await page.waitForSelector("#tools-openai");
  check("agents exports Slack's tools on demand", (await page.textContent("#tools-openai")).includes("chat_postMessage"));
  check("the loaded export takes the focus", await page.evaluate(() => document.activeElement?.id === "tools-openai"));
  await page.click("button:has-text('Copy OpenAI tools')");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check("the copy button copies the whole export", copied === (await page.textContent("#tools-openai")) && JSON.parse(copied).length === 174, `${copied.length} characters`);
  await audit("agents");
  remember("agents");

  await page.goto(base + "/");
  check("home lists the three integrations", (await page.locator(".integrations li").count()) === 3);
  check("home shows the last call", (await page.locator(".last-call time").count()) >= 1);
  await audit("home");
  remember("home");
  await page.goto(base + "/health");
  check("health shows the latency chart", (await page.locator("svg.chart rect").count()) >= 2);
  check("health shows the calls per hour", (await page.locator("svg.series g.hour").count()) === 12 && (await page.locator("svg.series rect.calls[height]:not([height='0'])").count()) >= 1);
  await audit("health");
  remember("health");
  await page.goto(base + "/settings");
  await audit("settings");
  remember("settings");

  // 640 px wide: no page scrolls sideways; each page's weight. Sign-in is
  // seen without a session (with one it goes home).
  async function narrow(p, name, url) {
    await p.goto(url);
    const wide = await p.evaluate(() => {
      const view = document.documentElement.clientWidth;
      // The innermost elements that stick out, to say what to fix.
      const out = [...document.body.querySelectorAll("*")]
        .filter((e) => e.getBoundingClientRect().right > view + 0.5)
        .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > view + 0.5))
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${[...e.classList].join(".")}`);
      return { scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), view, out };
    });
    check(`640 px: ${name} does not scroll sideways`, wide.scroll <= wide.view, `${wide.scroll} px > ${wide.view} px: ${wide.out.join(", ")}`);
    await p.screenshot({ path: path.join(out, `${name}-640.png`), fullPage: true });
    const html = await p.evaluate(() => performance.getEntriesByType("navigation")[0].encodedBodySize);
    console.log(`# page weight ${name}: ${(html / 1024).toFixed(1)} KiB HTML`);
  }
  await page.setViewportSize({ width: 640, height: 900 });
  for (const [name, url] of visited) {
    if (name !== "signin") await narrow(page, name, url);
  }
  const anonymous = await browser.newContext({ viewport: { width: 640, height: 900 } });
  const signinPage = await anonymous.newPage();
  signinPage.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${signinPage.url()}: ${m.text()}`); });
  await narrow(signinPage, "signin", visited.get("signin"));
  check("640 px: the sign-in page is the form", (await signinPage.locator("#apiKey").count()) === 1);
  await anonymous.close();
  const assets = await page.evaluate(async () => {
    let total = 0;
    for (const a of ["app.css", "app.js", "htmx.min.js"]) total += (await (await fetch(`/assets/${a}`)).arrayBuffer()).byteLength;
    return total;
  });
  console.log(`# page weight shared assets (CSS, app.js, htmx, uncompressed): ${(assets / 1024).toFixed(1)} KiB, fonts apart`);
  await page.setViewportSize({ width: 1280, height: 900 });

  // Sign out ends the session.
  await page.click("button:has-text('Sign out')");
  await page.waitForURL(base + "/signin");
  await page.goto(base + "/logs");
  check("after sign-out pages need a sign-in", page.url() === base + "/signin");
} catch (e) {
  check("the journey completes", false, e.stack);
  await page.screenshot({ path: path.join(out, "failure.png"), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
  upstream.close();
  docsite.kill();
  provider.stdin.end();
}

check("no console errors", consoleErrors.length === 0, consoleErrors.join("\n"));
if (failures.length) console.log("\nFailures:\n" + failures.join("\n"));
console.log(`screenshots in ${out}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
