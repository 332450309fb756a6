// Dashboard acceptance in a real browser (issue 17). Run by run.sh, which
// starts `waygate serve`; this script starts the local upstream, creates a
// tenant, and drives Debian's Chromium with playwright-core:
//   sign in → wizard with the Petstore-expanded fixture → connection →
//   Try it against the local upstream → response and timing → the call in Logs;
//   the action browser filters Slack's 174 actions by typing;
//   axe-core on every page, light and dark: no serious or critical violation;
//   no console error; a screenshot of each page in OUT.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";

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
const upstream = http.createServer((req, res) => {
  upstreamCalls++;
  const url = new URL(req.url, "http://x");
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

const created = await api("POST", "/api/v1/tenants", process.env.WAYGATE_ADMIN_KEY, { name: "acceptance" });
const key = created.apiKey;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--no-sandbox"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`); });
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

try {
  // Sign in.
  await page.goto(base + "/signin");
  await audit("signin");
  await page.fill("#apiKey", key);
  await page.click("button[type=submit]:has-text('Sign in')");
  await page.waitForURL(base + "/");
  check("sign-in lands on the empty home", (await page.textContent("main")).includes("Create your first integration"));
  await audit("home-empty");

  // Wizard: upload the Petstore-expanded document.
  await page.click("text=Create your first integration >> nth=-1");
  await page.waitForURL(base + "/integrations/new");
  await audit("wizard-source");
  await page.setInputFiles("#file", process.env.PETSTORE);
  await page.waitForFunction(() => document.querySelector("#document").value.includes("findPets"));
  await page.click("button:has-text('Detect actions')");
  await page.waitForSelector("text=Review");
  const boxes = await page.locator("input[name=select]").count();
  check("review lists the four Petstore actions", boxes === 4, `found ${boxes}`);
  await page.fill("#baseUrl", upstreamUrl);
  await audit("wizard-review");
  await page.click("button:has-text('Save integration')");
  await page.waitForURL(/\/connections\/new$/);
  await audit("connection-new");
  await page.click("button:has-text('Save connection')");
  await page.waitForURL(/\/integrations\/[a-z0-9-]+\?done=connected$/);
  const slug = new URL(page.url()).pathname.split("/").pop();
  check("the connection is listed", (await page.textContent("#connections + *, main")).includes("default"));
  await audit("integration");

  // Try it: findPets against the local upstream.
  await page.click("a:has-text('findPets'), a[href$='/actions/findPets']");
  await page.waitForURL(/\/actions\/findPets$/);
  await page.fill("#input", "{}");
  const before = upstreamCalls;
  await page.click("button:has-text('Send')");
  await page.waitForSelector("#try-answer");
  const answer = await page.textContent("#try-answer");
  check("Try it answers HTTP 200", answer.includes("HTTP 200"), answer.slice(0, 300));
  check("Try it shows the attempts", (await page.textContent("#try-attempts")).trim() === "1");
  check("Try it shows the timing", /\d+ ms/.test(await page.textContent("#try-duration")));
  check("Try it shows the response", (await page.textContent("#try-body")).includes("Rex"));
  check("the upstream was called once", upstreamCalls === before + 1, `${upstreamCalls - before} calls`);
  await audit("action-try");

  // The call appears in Logs (the log is written in batches: reload until it shows).
  let logged = false;
  for (let i = 0; i < 40 && !logged; i++) {
    await page.goto(base + "/logs");
    logged = (await page.textContent("#log-list")).includes(`${slug}.findPets`);
    if (!logged) await page.waitForTimeout(250);
  }
  check("the call appears in Logs", logged);
  await page.click("#log-list details summary >> nth=0");
  check("the log detail shows the sanitized request", (await page.textContent("#log-list details")).includes("/api/pets"));
  await audit("logs");

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
  await page.click("a:has-text('Agents')");
  await page.waitForURL(/\/integrations\/slack\/agents$/);
  check("agents shows the MCP endpoint", (await page.textContent("#mcp-url")).endsWith("/mcp?integrations=slack"));
  check("agents exports Slack's tools", (await page.textContent("#tools-openai")).includes("chat_postMessage"));
  await audit("agents");

  await page.goto(base + "/");
  check("home lists both integrations", (await page.locator(".integrations li").count()) === 2);
  await audit("home");
  await page.goto(base + "/health");
  check("health shows the latency chart", (await page.locator("svg.chart rect").count()) >= 2);
  await audit("health");
  await page.goto(base + "/settings");
  await audit("settings");

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
}

check("no console errors", consoleErrors.length === 0, consoleErrors.join("\n"));
if (failures.length) console.log("\nFailures:\n" + failures.join("\n"));
console.log(`screenshots in ${out}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
