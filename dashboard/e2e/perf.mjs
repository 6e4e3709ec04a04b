// Responsiveness with many alerts (a measurement, not in CI): a server whose database holds
// N alerts (written by `cargo run --release -p netsec-server --example ingest`), the alert
// table loaded to 10,000 rows with "Load older", then timings of loading, paging and
// keyboard selection.
//
//   node e2e/perf.mjs DATA_DIR [path/to/netsec-server]

import { spawn, execFileSync } from "node:child_process";
import { resolve, join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const data = resolve(process.argv[2]);
const bin = resolve(process.argv[3] ?? join(import.meta.dirname, "../../target/release/netsec-server"));
const init = execFileSync(bin, ["--data-dir", data, "init"], { encoding: "utf8" });
const password = init.match(/Password \(shown once, stored hashed\): (\S+)/)[1];
const server = spawn(bin, ["--data-dir", data, "--bind", "127.0.0.1:0", "--log", "warn"], { stdio: ["ignore", "pipe", "inherit"] });
const addr = await new Promise((ok) =>
  createInterface({ input: server.stdout }).on("line", (l) => l.startsWith("listening on ") && ok(l.slice(13))),
);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(`http://${addr}/`);
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=inbox] tbody tr td .sev");
  let t = Date.now();
  await page.goto(`http://${addr}/#/inbox`);
  await page.reload();
  await page.waitForSelector("[data-testid=inbox] tbody tr td .sev");
  console.log(`inbox: ${Date.now() - t} ms`);
  t = Date.now();
  await page.goto(`http://${addr}/#/alerts`);
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=alerts] tbody tr[data-status]").length === 200);
  console.log(`alert table, first 1,000 loaded and 200 drawn: ${Date.now() - t} ms`);
  t = Date.now();
  for (let i = 0; i < 9; i++) {
    const before = await page.locator("footer.bar span").first().textContent();
    await page.click("text=Load older");
    await page.waitForFunction((b) => document.querySelector("footer.bar span")?.textContent !== b, before);
  }
  const footer = await page.locator("footer.bar span").first().textContent();
  console.log(`"Load older" 9 times: ${Date.now() - t} ms -> ${footer}`);
  t = Date.now();
  for (let i = 0; i < 20; i++) await page.click("text=Next");
  console.log(`20 page turns: ${Date.now() - t} ms`);
  t = Date.now();
  for (let i = 0; i < 100; i++) await page.keyboard.press("j");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=alerts] tbody tr")].indexOf(document.querySelector("tr.selected")) === 100);
  console.log(`100 key presses (j): ${Date.now() - t} ms`);
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(`JS heap: ${(heap / 1e6).toFixed(1)} MB`);
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
