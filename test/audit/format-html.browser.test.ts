import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { readChartJs } from "../../src/audit/chart-library.ts";
import { collectAudit } from "../../src/audit/collect.ts";
import { formatHtml } from "../../src/audit/format-html.ts";
import { buildRepo, DAY, fakePort, mixedHistory, T0 } from "./history-fixtures.ts";

/** Debian's chromium, which .ci/run installs; set CHROMIUM_PATH to use another. */
const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => Boolean(p && existsSync(p)),
);
const ARTIFACTS = join(process.cwd(), "test-artifacts");

describe(
  "html report in a real browser",
  { skip: CHROMIUM ? false : "no chromium installed (CI installs it: apt-get install chromium)" },
  () => {
    let browser: Browser;
    let page: Page;
    const requests: string[] = [];
    const problems: string[] = [];

    before(async () => {
      const { specs, reviews } = mixedHistory();
      const repo = await buildRepo(specs, reviews);
      const collection = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY });
      const html = formatHtml(collection, await readChartJs());
      await mkdir(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, "audit-report.html");
      await writeFile(file, html);
      browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox"] });
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on("request", (r) => requests.push(r.url()));
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("dialog", (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      await page.goto(pathToFileURL(file).href);
    });
    after(async () => browser?.close());

    it("loads nothing but itself, runs without errors, and no injected script ran", () => {
      assert.deepEqual(
        requests.filter((u) => !u.startsWith("file://")),
        [],
      );
      assert.deepEqual(problems, []);
    });

    it("draws the five charts with the report's data", async () => {
      // A string, so the page's DOM types stay out of this Node project's type check.
      const charts = (await page.evaluate(`[...document.querySelectorAll("canvas")].map((c) => ({
      id: c.id,
      drawn: c.width > 0 && c.toDataURL().length > 2000,
      total: Chart.getChart(c)?.data.datasets.reduce((sum, d) => sum + d.data.reduce((a, b) => a + b, 0), 0) ?? -1,
    }))`)) as Array<{ id: string; drawn: boolean; total: number }>;
      assert.deepEqual(
        charts.map((c) => c.id),
        ["chart-timeline", "chart-approve", "chart-revoke", "chart-flags", "chart-drills"],
      );
      assert.ok(
        charts.every((c) => c.drawn),
        JSON.stringify(charts),
      );
      assert.deepEqual(
        charts.map((c) => c.total),
        [11, 7, 4, 8, 1],
      );
    });

    it("sorts the table by a column and filters it", async () => {
      const issues = () =>
        page.$$eval("#requests tbody tr:not([hidden]) td:first-child", (tds) =>
          tds.map((td) => td.textContent),
        );
      assert.equal((await issues())[0], "#1");
      await page.click("#requests th:nth-child(1) button");
      assert.deepEqual((await issues()).slice(0, 3), ["#1", "#2", "#3"]);
      await page.click("#requests th:nth-child(1) button");
      assert.deepEqual((await issues()).slice(0, 3), ["#11", "#10", "#9"]);
      assert.equal(await page.getAttribute("#requests th:nth-child(1)", "aria-sort"), "descending");
      await page.click("#requests th:nth-child(10) button");
      assert.equal((await issues())[0], "#6", "fastest approval first (auto-approved drill)");
      assert.deepEqual(
        (await issues()).slice(-4).sort(),
        ["#11", "#2", "#8", "#9"],
        "never approved: at the bottom",
      );
      await page.click("#requests th:nth-child(10) button");
      assert.equal((await issues())[0], "#1", "slowest approval first");
      assert.deepEqual((await issues()).slice(-4).sort(), ["#11", "#2", "#8", "#9"], "still at the bottom");
      await page.fill("#filter", "olga");
      assert.deepEqual((await issues()).sort(), ["#5", "#7"]);
      assert.equal(await page.textContent("#shown"), "2 of 11 shown");
      await page.fill("#filter", "");
      assert.equal((await issues()).length, 11);
    });

    it("saves a screenshot for people to look at", async () => {
      const path = join(ARTIFACTS, "audit-report.png");
      await page.screenshot({ path, fullPage: true });
      assert.ok(existsSync(path));
    });
  },
);
