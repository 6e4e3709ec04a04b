// The HTML report in headless Chromium: `netsec analyze --report` on real attack captures,
// opened from disk (file://, no server, no network), must show as many alerts as the
// analysis wrote, the inbox, the charts, the flows with the sampling note, and the detail of a
// rule alert (rule text, flow) and of a model alert (top features), with no
// console error and no request leaving the page.
//
//   node e2e/report.mjs [path/to/netsec]   (default ../target/debug/netsec)

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const here = resolve(import.meta.dirname, "..");
const bin = resolve(process.argv[2] ?? join(here, "../target/debug/netsec"));
const pcaps = resolve(here, "../../shared/data/pcaps/attacks");
const shots = resolve(here, "../target/e2e");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

if (!existsSync(pcaps)) {
  console.log(`skipped: ${pcaps} is absent`);
  process.exit(0);
}
mkdirSync(shots, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "netsec-report-"));
const captures = ["portscan_syn_nmap.pcapng", "web_sqli.pcap", "bruteforce_ssh_guess.pcap", "arp_spoofing.pcap"].map((c) =>
  join(pcaps, c),
);
const html = join(dir, "report.html");
const alertsFile = join(dir, "alerts.jsonl");
const model = resolve(here, "../models/rf-default.json");
execFileSync(bin, ["analyze", ...captures, "--model", model, "--format", "jsonl", "--alerts", alertsFile, "--report", html], {
  stdio: ["ignore", "ignore", "inherit"],
});
const written = readFileSync(alertsFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const expected = written.length;
const ruled = written.find((a) => a.detector === "rules" && a.flow_id !== undefined);
if (!ruled) throw new Error("the analysis raised no rule alert of a flow");
const modelled = written.find((a) => a.detector === "random_forest");
if (!modelled) throw new Error("the model raised no alert");

const browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
const errors = [];
const requests = [];
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => !r.url().startsWith("file://") && !r.url().startsWith("data:") && requests.push(r.url()));
  await page.goto(`file://${html}#/alerts`);
  await page.waitForSelector("[data-testid=alerts] tbody tr[data-status]");
  const footer = await page.locator("footer.bar span").first().textContent();
  const shown = Number(footer?.match(/^(\d+) alerts/)?.[1] ?? -1);
  if (shown !== expected) throw new Error(`the report shows ${shown} alerts, the analysis wrote ${expected}`);
  await page.screenshot({ path: join(shots, "r1-alerts.png") });
  await page.goto(`file://${html}#/inbox`);
  await page.waitForSelector("[data-testid=inbox] tbody tr td .sev");
  await page.screenshot({ path: join(shots, "r2-inbox.png") });
  await page.goto(`file://${html}#/overview`);
  await page.waitForSelector("[data-testid=chart-alerts] canvas");
  await page.screenshot({ path: join(shots, "r3-overview.png"), fullPage: true });
  await page.goto(`file://${html}#/flows`);
  await page.waitForSelector("[data-testid=sampled]");
  await page.screenshot({ path: join(shots, "r4-flows.png") });
  // A rule alert's detail, frozen: the rule's text and the flow's 25 features.
  await page.goto(`file://${html}#/alert/${ruled.id}`);
  await page.waitForSelector(`[data-testid=rule-text]:has-text("sid:${ruled.meta.sid};")`);
  await page.waitForSelector("h3:has-text('the 25 features')");
  await page.screenshot({ path: join(shots, "r5-rule-detail.png"), fullPage: true });
  // A model alert's detail: its score and the features that weighed most.
  await page.goto(`file://${html}#/alert/${modelled.id}`);
  const top = modelled.meta.top_features[0].feature;
  await page.waitForSelector(`[data-testid=top-features] td:has-text("${top}")`);
  await page.screenshot({ path: join(shots, "r6-model-detail.png"), fullPage: true });
  if (errors.length) throw new Error(`console errors: ${errors.join(" | ")}`);
  if (requests.length) throw new Error(`the report fetched: ${requests.join(", ")}`);
  console.log(`ok: the report shows all ${expected} alerts, inbox, charts, sampled flows; no console error, no request`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
