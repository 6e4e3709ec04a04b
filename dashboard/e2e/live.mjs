// End-to-end test of the live dashboard in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): start the real server, log in, replay real attack captures,
// and check that alerts appear in the table live, that acknowledging one with the keyboard
// changes its status in the API, that the charts draw, and that no console error is logged.
// Screenshots go to target/e2e/ for people to look at.
//
//   node e2e/live.mjs [path/to/netsec-server]   (default ../target/debug/netsec-server)

import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const here = resolve(import.meta.dirname, "..");
const bin = resolve(process.argv[2] ?? join(here, "../target/debug/netsec-server"));
const pcaps = resolve(here, "../../shared/data/pcaps/attacks");
const shots = resolve(here, "../target/e2e");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exitCode = 1;
  throw new Error(msg);
}

if (!existsSync(pcaps)) {
  console.log(`skipped: ${pcaps} is absent`);
  process.exit(0);
}
mkdirSync(shots, { recursive: true });
const data = mkdtempSync(join(tmpdir(), "netsec-e2e-"));
const init = execFileSync(bin, ["--data-dir", data, "init"], { encoding: "utf8" });
const password = init.match(/Password \(shown once, stored hashed\): (\S+)/)?.[1] ?? fail("no password printed");

const server = spawn(bin, ["--data-dir", data, "--bind", "127.0.0.1:0", "--log", "warn"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const addr = await new Promise((ok, ko) => {
  const lines = createInterface({ input: server.stdout });
  lines.on("line", (l) => {
    const m = l.match(/^listening on (\S+)/);
    if (m) ok(m[1]);
  });
  server.on("exit", (c) => ko(new Error(`server exited ${c}`)));
});
const base = `http://${addr}`;

async function api(method, path, body, token) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status === 204 ? null : res.json();
}

const browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));

  // Log in.
  await page.goto(base + "/");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await page.screenshot({ path: join(shots, "0-login.png") });
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=inbox]");
  await page.waitForSelector("[data-testid=link]:has-text('live')", { timeout: 10000 });

  // Open the alert table, then replay attacks: alerts must arrive without a reload.
  await page.goto(base + "/#/alerts");
  await page.waitForSelector("[data-testid=alerts]");
  const before = await page.locator("[data-testid=alerts] tbody tr[data-status]").count();
  if (before !== 0) fail(`expected an empty table, found ${before} rows`);
  const { access_token: token } = await api("POST", "/api/v1/auth/login", { username: "admin", password });
  for (const c of ["portscan_syn_nmap.pcapng", "web_sqli.pcap", "bruteforce_ssh_guess.pcap"]) {
    const started = await api("POST", "/api/v1/capture/start", { pcap: join(pcaps, c), speed: "max" }, token);
    if (started?.state !== "running" && started?.state !== "finished") fail(`start ${c}: ${JSON.stringify(started)}`);
    for (let i = 0; i < 200; i++) {
      const s = await api("GET", "/api/v1/capture/status", undefined, token);
      if (s.state === "finished") break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await page.waitForSelector("[data-testid=alerts] tbody tr[data-status]", { timeout: 15000 });
  const stored = (await api("GET", "/api/v1/alerts?limit=1000", undefined, token)).alerts.length;
  await page.waitForFunction(
    (n) => document.querySelectorAll("[data-testid=alerts] tbody tr[data-status]").length >= n,
    stored,
    { timeout: 15000 },
  );
  const shown = await page.locator("[data-testid=alerts] tbody tr[data-status]").count();
  console.log(`alerts: ${stored} stored, ${shown} shown live`);
  const fresh = await page.locator("[data-testid=new-count]").textContent();
  if (!fresh || !/\d+ new/.test(fresh)) fail(`no visible count of new alerts (${fresh})`);
  await page.screenshot({ path: join(shots, "1-alerts.png") });

  // Acknowledge the selected (first) alert with the keyboard; the API must agree.
  const href = await page.locator("[data-testid=alerts] tbody tr.selected a").getAttribute("href");
  const id = href?.split("/").pop() ?? fail("no selected alert");
  await page.locator("body").press("a");
  await page.waitForSelector("[data-testid=alerts] tbody tr.selected[data-status=ACKNOWLEDGED]");
  const acked = await api("GET", `/api/v1/alerts/${id}`, undefined, token);
  if (acked.status !== "ACKNOWLEDGED") fail(`alert ${id} is ${acked.status} in the API`);

  // The detail page.
  await page.goto(`${base}/#/alert/${id}`);
  await page.waitForSelector("[data-testid=status]:has-text('ACKNOWLEDGED')");
  await page.screenshot({ path: join(shots, "2-detail.png"), fullPage: true });

  // A rule alert's detail shows the rule's text and the alert's flow with its features.
  const ruled = (await api("GET", "/api/v1/alerts?detector=rules&limit=1", undefined, token)).alerts[0];
  if (!ruled) fail("no rule alert was stored");
  await page.goto(`${base}/#/alert/${ruled.id}`);
  await page.waitForSelector(`[data-testid=rule-text]:has-text("sid:${ruled.meta.sid};")`);
  await page.waitForSelector("h3:has-text('the 25 features')");
  await page.screenshot({ path: join(shots, "2b-rule-detail.png"), fullPage: true });

  // The inbox.
  await page.goto(`${base}/#/inbox`);
  await page.waitForSelector("[data-testid=inbox] tbody tr td .sev");
  await page.screenshot({ path: join(shots, "3-inbox.png") });

  // The charts draw something.
  await page.goto(`${base}/#/overview`);
  await page.waitForSelector("[data-testid=chart-alerts] canvas");
  // The chart draws once the trend data has come (poll: the canvas exists before that).
  const paintedPixels = () => {
    const c = document.querySelector("[data-testid=chart-alerts] canvas");
    const ctx = c.getContext("2d");
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) n++;
    return n;
  };
  await page.waitForFunction(`(${paintedPixels})() >= 100`, null, { timeout: 10000, polling: 100 }).catch(() => {});
  const painted = await page.evaluate(paintedPixels);
  if (painted < 100) {
    await page.screenshot({ path: join(shots, "4-overview-failed.png"), fullPage: true });
    const info = await page.evaluate(() => {
      const c = document.querySelector("[data-testid=chart-alerts] canvas");
      return { w: c?.width, h: c?.height, n: document.querySelectorAll("[data-testid=chart-alerts] canvas").length };
    });
    fail(`the alerts chart is empty (${painted} pixels, ${JSON.stringify(info)})`);
  }
  await page.screenshot({ path: join(shots, "4-overview.png"), fullPage: true });

  await page.goto(`${base}/#/flows`);
  await page.waitForSelector("[data-testid=flows] tbody tr");
  await page.screenshot({ path: join(shots, "5-flows.png") });
  await page.goto(`${base}/#/devices`);
  await page.waitForSelector("[data-testid=devices] tbody tr");
  await page.screenshot({ path: join(shots, "6-devices.png") });

  if (errors.length) fail(`console errors: ${errors.join(" | ")}`);
  console.log(`ok: live table, keyboard acknowledge, charts (${painted} pixels), no console error; screenshots in ${shots}`);
} finally {
  await browser.close();
  server.kill("SIGTERM");
  rmSync(data, { recursive: true, force: true });
}
