/**
 * The leaderboard site end to end: a real tracker (wrangler dev + local D1) seeded through the API,
 * a real `astro build` against it, and the built pages, served by the same Worker, driven in
 * Debian's headless Chromium. Every number checked on a page is compared with the API's answer.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { CompareResponse, LeaderboardResponse, MetricHistoryResponse, RunDetailResponse, SummaryResponse } from "../../functions/api/contract.js";
import { ARTIFACT_PROXY } from "../../functions/domain/artifacts.js";
import { STAGE_NAMES } from "../../functions/domain/index.js";
import { buildSite } from "../../scripts/build-site.mjs";
import { ROOT } from "../../scripts/local-server.mjs";
import { buildSiteData } from "../../site/lib/data.js";
import { formatBytes, formatMetric } from "../../site/lib/format.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { FAILED_ERROR, FAILED_RUN, KD_STUDENT_RUN, RERUNNING_RUN, RETRIED_RUN, RUNNING_RUN, SEED_DATASETS, SEEDED_ARTIFACTS, type SeededTracker, seedTracker } from "./seed.js";
import { loadWhole } from "./whole-export.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SCREENSHOTS = join(ROOT, "test-results", "site");
const SITE_DIR = join(ROOT, "dist", "site");
const SCRIPT_BUDGET_BYTES = 15 * 1024;

const browserMissing = !existsSync(CHROMIUM);
if (browserMissing && !process.env.CI) {
  console.warn(`\n!!!!!!!!\n!!! ${CHROMIUM} is missing: the site's BROWSER TESTS ARE SKIPPED. Install it: apt-get install -y chromium\n!!!!!!!!\n`);
}

let server: TestServer;
let seeded: SeededTracker;
let browser: Browser | undefined;

beforeAll(async () => {
  server = await startTestServer();
  seeded = await seedTracker(server.url, await server.mintToken("site-seed"));
  // Built into dist/site, which the running Worker serves as its static assets.
  await buildSite({ apiUrl: server.url, timeoutMs: 240_000 });
  if (!browserMissing) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(SCREENSHOTS, { recursive: true });
  // A tracker, its seed and a build: up to a few minutes on a busy shared machine.
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  // Leave no test data behind for `npm start` to serve (it builds the site when dist/site is empty).
  rmSync(SITE_DIR, { recursive: true, force: true });
  mkdirSync(SITE_DIR, { recursive: true });
});

async function api<T>(path: string): Promise<T> {
  const answer = await server.call("GET", `/api/v1${path}`);
  expect(answer.status, path).toBe(200);
  return answer.json as T;
}

/** A page with console errors, page errors and failed requests recorded (CSP violations are console errors). */
async function newPage(options: { width?: number; dark?: boolean; javaScript?: boolean; bypassCSP?: boolean } = {}) {
  const context = await browser!.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.dark ? "dark" : "light",
    javaScriptEnabled: options.javaScript ?? true,
    bypassCSP: options.bypassCSP ?? false,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    // Leaving a page aborts its late requests (the favicon); that is navigation, not a fault.
    if (request.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  const visit = async (path: string) => {
    const response = await page.goto(`${server.url}${path}`, { waitUntil: "load" });
    expect(response?.status(), path).toBe(200);
  };
  return { page, problems, visit, close: () => context.close() };
}

async function openPage(path: string, options: Parameters<typeof newPage>[0] = {}) {
  const opened = await newPage(options);
  await opened.visit(path);
  return opened;
}

/** A full-page JPEG under test-results/site/ for review (encoding a tall page as PNG costs several times the CPU). */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.jpg`), fullPage: true, type: "jpeg", quality: 80 });
}

/** Data values of one column of a table, by the header's data-key. */
async function columnValues(page: Page, tableSelector: string, key: string): Promise<string[]> {
  return page.$$eval(
    `${tableSelector} tbody tr`,
    (rows, { tableSelector, key }) => {
      const headers = Array.from(document.querySelectorAll(`${tableSelector} thead th`));
      const index = headers.findIndex((th) => th.getAttribute("data-key") === key);
      return rows.map((row) => (row as HTMLTableRowElement).cells[index].getAttribute("data-value") ?? "");
    },
    { tableSelector, key },
  );
}

describe("site build", () => {
  test("fails with a clear message, and without a page, when the API is unreachable", async () => {
    // The silent server and the other answers are export-source.test.ts's (in one process, no astro start-up).
    const outDir = mkdtempSync(join(tmpdir(), "kdgat-site-"));
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    try {
      await expect(buildSite({ apiUrl: `http://127.0.0.1:${port}`, outDir, timeoutMs: 60_000 })).rejects.toThrow(
        /Site build: cannot fetch http:\/\/127\.0\.0\.1:\d+\/api\/v1\/export: .*ECONNREFUSED/,
      );
      expect(listFiles(outDir).filter((file) => file.endsWith(".html"))).toEqual([]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

  test("serves the site with its security headers and at most 15 KB of script", async () => {
    for (const path of ["/", `/runs/${KD_STUDENT_RUN}/`, "/table-sort.js"]) {
      const response = await server.call("GET", path);
      expect(response.status, path).toBe(200);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("default-src 'self'");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBeTruthy();
    }
    const scripts = listFiles(SITE_DIR).filter((file) => file.endsWith(".js"));
    const scriptBytes = scripts.reduce((sum, file) => sum + statSync(file).size, 0);
    expect(scriptBytes).toBeGreaterThan(0);
    expect(scriptBytes).toBeLessThanOrEqual(SCRIPT_BUDGET_BYTES);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

describe.skipIf(browserMissing && !process.env.CI)("site in Chromium", () => {
  test("Chromium is installed (required in CI)", () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; install Debian's chromium`).toBe(true);
  });

  test("every link resolves; every page type and every kind of run page loads without console errors", async () => {
    // Links are followed over HTTP (the pages are static); Chromium then loads every page but the
    // run pages of ordinary finished runs, which share one template with the run pages it loads.
    const seen = new Set<string>(["/"]);
    const queue = ["/"];
    while (queue.length > 0) {
      const path = queue.shift()!;
      const response = await server.call("GET", path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toContain("text/html");
      for (const [, href] of response.text.matchAll(/<a [^>]*?href="([^"]+)"/g)) {
        const url = new URL(href.replaceAll("&amp;", "&"), `${server.url}${path}`);
        // Artifact links are downloads, not pages (checked byte for byte below).
        if (url.origin !== server.url || seen.has(url.pathname) || url.pathname.startsWith(`${ARTIFACT_PROXY}/`)) continue;
        seen.add(url.pathname);
        queue.push(url.pathname);
      }
    }
    const pageTypes = new Set([...seen].map((path) => path.split("/")[1] || "overview"));
    expect([...pageTypes].sort()).toEqual(["experiments", "kd", "leaderboard", "lookup", "overview", "ranking", "runs", "status"]);
    // The run logged with the plain MLflow client has a page, reached from the experiments index.
    const plainRunPage = `/experiments/${seeded.plainRun.experimentId}/runs/${seeded.plainRun.uuid}/`;
    expect(seen).toContain(plainRunPage);
    // Every seeded run id has a page and it was reached by links alone.
    const runPages = [...seen].filter((path) => path.startsWith("/runs/"));
    expect(runPages.length).toBe(SEED_DATASETS.length * 15);

    // A finished teacher's run page of every stage, and the runs that are not plainly finished.
    const runKinds = [...STAGE_NAMES.map((stage) => `hcrl_ch/teacher_${stage}`), KD_STUDENT_RUN, RETRIED_RUN, RERUNNING_RUN, FAILED_RUN, RUNNING_RUN];
    const inChromium = [...seen].filter((path) => !path.startsWith("/runs/")).concat(runKinds.map((id) => `/runs/${id}/`));
    expect(inChromium).toContain(plainRunPage);
    const { problems, visit, close } = await newPage();
    for (const path of inChromium) {
      await visit(path);
      expect(problems, path).toEqual([]);
    }
    await close();
  });

  test("overview counts equal /summary", async () => {
    const summary = await api<SummaryResponse>("/summary");
    const { page, close } = await openPage("/");
    expect(await page.textContent('[data-count="total"]')).toBe(String(summary.total));
    for (const [status, count] of Object.entries(summary.by_status)) {
      expect(await page.textContent(`[data-count="${status}"]`), status).toBe(String(count));
    }
    expect(await page.textContent('[data-count="datasets"]')).toBe(String(Object.keys(summary.by_dataset).length));
    await screenshot(page, "overview-desktop-light");
    await close();
  });

  test("each dataset's leaderboard equals /leaderboard, ranks and values", async () => {
    for (const dataset of SEED_DATASETS) {
      const board = await api<LeaderboardResponse>(`/leaderboard?dataset=${dataset}&metric=gat_f1&top=1000`);
      expect(board.entries.length).toBeGreaterThan(1);
      const { page, close } = await openPage(`/leaderboard/${dataset}/`);
      const rows = await page.$$eval("table.leaderboard tbody tr", (trs) =>
        trs.map((tr) => ({ runId: tr.getAttribute("data-run-id"), rank: (tr as HTMLTableRowElement).cells[0].textContent!.trim() })),
      );
      const values = await columnValues(page, "table.leaderboard", "gat_f1");
      const ranked = rows.map((row, i) => ({ ...row, value: values[i] })).filter((row) => row.rank !== "—");
      expect(ranked.map((row) => [row.runId, Number(row.rank), Number(row.value)])).toEqual(board.entries.map((entry) => [entry.run.run_id, entry.rank, entry.value]));
      // The record history ends with today's best, set by the leaderboard's winner.
      const records = await page.$$eval("[data-records] li", (items) =>
        items.map((li) => ({ href: li.querySelector("a")!.getAttribute("href"), value: li.querySelector("strong")!.textContent })),
      );
      expect(records.length).toBeGreaterThan(0);
      expect(records[records.length - 1]).toEqual({ href: `/runs/${board.entries[0].run.run_id}/`, value: formatMetric(board.entries[0].value as number) });
      if (dataset === "set_01") await screenshot(page, `leaderboard-${dataset}`);
      await close();
    }
    // A run id whose newest attempt is still running has no result yet: listed, but not ranked.
    const board = await api<LeaderboardResponse>(`/leaderboard?dataset=set_01&top=1000`);
    expect(board.entries.map((entry) => entry.run.run_id)).not.toContain(RERUNNING_RUN);
    const { page, close } = await openPage("/leaderboard/set_01/");
    expect(await page.textContent(`table.leaderboard tr[data-run-id="${RERUNNING_RUN}"] td:first-child`)).toBe("—");
    await close();
  });

  test("the overall leaderboards (default metric and another) equal /leaderboard across datasets, with formatted numbers", async () => {
    for (const [metric, path] of [
      ["gat_f1", "/leaderboard/"],
      ["vgae_auc", "/ranking/vgae_auc/"],
    ]) {
      const board = await api<LeaderboardResponse>(`/leaderboard?metric=${metric}&top=100`);
      const { page, close } = await openPage(path);
      const runIds = await page.$$eval("table.leaderboard tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-run-id")));
      const values = await columnValues(page, "table.leaderboard", metric);
      expect(runIds, path).toEqual(board.entries.map((entry) => entry.run.run_id));
      expect(values.map(Number), path).toEqual(board.entries.map((entry) => entry.value));
      const shown = await page.$$eval(
        "table.leaderboard tbody tr",
        (trs, metric) => {
          const index = Array.from(document.querySelectorAll("table.leaderboard thead th")).findIndex((th) => th.getAttribute("data-key") === metric);
          return trs.map((tr) => (tr as HTMLTableRowElement).cells[index].textContent!.trim());
        },
        metric,
      );
      expect(shown, path).toEqual(board.entries.map((entry) => formatMetric(entry.value as number)));
      await screenshot(page, `ranking-${metric}`);
      await close();
    }
  });

  test("sorting: header buttons re-rank by mouse and keyboard, missing values last; filter hides rows", async () => {
    const { page, problems, close } = await openPage(`/leaderboard/hcrl_sa/`);
    const header = 'table.leaderboard th[data-key="vgae_auc"]';
    await page.click(`${header} button`);
    expect(await page.getAttribute(header, "aria-sort")).toBe("descending");
    const descending = (await columnValues(page, "table.leaderboard", "vgae_auc")).filter((v) => v !== "").map(Number);
    expect(descending.length).toBeGreaterThan(1);
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    await page.focus(`${header} button`);
    await page.keyboard.press("Enter");
    expect(await page.getAttribute(header, "aria-sort")).toBe("ascending");
    const ascending = await columnValues(page, "table.leaderboard", "vgae_auc");
    const present = ascending.filter((v) => v !== "").map(Number);
    expect(present).toEqual([...present].sort((a, b) => a - b));
    expect(ascending.slice(present.length).every((v) => v === "")).toBe(true);

    await page.fill("table.leaderboard >> xpath=ancestor::div[1]/preceding-sibling::label[1]//input", "student_kd");
    const visible = await page.$$eval("table.leaderboard tbody tr", (trs) => trs.filter((tr) => !(tr as HTMLElement).hidden).map((tr) => tr.getAttribute("data-run-id")));
    expect(visible).toEqual(["hcrl_sa/student_evaluation_kd"]);
    expect(problems).toEqual([]);
    await screenshot(page, "leaderboard-hcrl_sa-sorted");
    await close();
  });

  test("KD impact equals /compare (student KD minus student and minus teacher)", async () => {
    const { page, close } = await openPage("/kd/");
    for (const [group, column] of [
      ["student", 5],
      ["teacher", 6],
    ] as const) {
      const compare = await api<CompareResponse>(`/compare?a=${group}&b=student_kd&metric=gat_f1`);
      for (const row of compare.datasets) {
        const cell = await page.$eval(
          `table.kd tr[data-dataset="${row.dataset}"][data-key="gat_f1"]`,
          (tr, column) => (tr as HTMLTableRowElement).cells[column].getAttribute("data-value"),
          column,
        );
        if (row.delta === null) expect(cell, `${row.dataset} vs ${group}`).toBe("");
        else expect(Number(cell), `${row.dataset} vs ${group}`).toBeCloseTo(row.delta, 12);
      }
    }
    expect(await page.locator("table.kd td.delta.better, table.kd td.delta.worse").count()).toBeGreaterThan(0);
    // Sizes come from the runs that trained the models (gat: curriculum), not from the evaluation configs.
    const teacherGat = await api<RunDetailResponse>("/runs/hcrl_sa/teacher_curriculum");
    const studentGat = await api<RunDetailResponse>("/runs/hcrl_sa/student_curriculum_kd");
    const gatSize = (params: Record<string, string>) => ["gat_hidden", "gat_heads", "gat_layers"].reduce((product, key) => product * Number(params[key]), 1);
    const sizeCell = await page.$eval('table.kd tr[data-dataset="hcrl_sa"][data-key="gat_f1"]', (tr) => (tr as HTMLTableRowElement).cells[7].getAttribute("data-value"));
    expect(Number(sizeCell)).toBeCloseTo(gatSize(studentGat.params) / gatSize(teacherGat.params), 12);
    expect(Number(sizeCell)).toBeLessThan(1);
    // One summary row per dataset.
    expect(await page.$$eval("table.kd-summary tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-summary")))).toEqual(SEED_DATASETS);
    await screenshot(page, "kd-impact");
    await close();
  });

  test("run pages equal /runs/{id}: status, attempts, lineage, params, latest metrics, charts", async () => {
    for (const runId of [KD_STUDENT_RUN, FAILED_RUN, RUNNING_RUN, RETRIED_RUN, RERUNNING_RUN]) {
      const detail = await api<RunDetailResponse>(`/runs/${runId}`);
      const { page, close } = await openPage(`/runs/${runId}/`);
      expect(await page.textContent('[data-field="status"]')).toContain(detail.run.status);
      expect(await page.textContent('[data-field="attempts"]')).toBe(String(detail.attempts.length));
      const metricRows = await page.$$eval("table.metrics tbody tr", (trs) =>
        trs.map((tr) => [tr.getAttribute("data-key"), (tr as HTMLTableRowElement).cells[1].getAttribute("data-value")]),
      );
      expect(Object.fromEntries(metricRows)).toEqual(Object.fromEntries(Object.entries(detail.metrics).map(([key, latest]) => [key, latest.value === "NaN" ? "" : String(latest.value)])));
      const params = await page.$$eval("table.params tbody tr", (trs) => trs.map((tr) => [tr.querySelector("th")!.textContent, tr.querySelector("td")!.textContent]));
      expect(Object.fromEntries(params)).toEqual(detail.params);
      if (detail.run.teacher_run_id) {
        expect(await page.getAttribute('.lineage a[rel="up"]', "href")).toBe(`/runs/${detail.run.teacher_run_id}/`);
      }
      await close();
    }

    // Lineage both ways: the teacher's page links back to its KD student.
    const kd = await api<RunDetailResponse>(`/runs/${KD_STUDENT_RUN}`);
    const teacher = await api<RunDetailResponse>(`/runs/${kd.run.teacher_run_id}`);
    expect(teacher.students).toContain(KD_STUDENT_RUN);
    const teacherPage = await openPage(`/runs/${kd.run.teacher_run_id}/`);
    expect(await teacherPage.page.getAttribute(`.lineage a[href="/runs/${KD_STUDENT_RUN}/"]`, "href")).toBeTruthy();
    await teacherPage.close();

    const kdPage = await openPage(`/runs/${KD_STUDENT_RUN}/`);
    // One chart per quantity: train and val together, the teacher's curves overlaid; axes with ticks.
    const charts = await kdPage.page.$$eval(".charts figure", (figures) =>
      figures.map((figure) => ({
        quantity: figure.getAttribute("data-quantity"),
        series: Array.from(figure.querySelectorAll(".legend .key")).map((key) => key.textContent),
        lines: figure.querySelectorAll("path.line").length,
        xTicks: figure.querySelectorAll(".axis.x text").length,
        yTicks: figure.querySelectorAll(".axis.y text").length,
        hover: Array.from(figure.querySelectorAll(".hover rect title"), (title) => title.textContent),
        description: figure.querySelector("desc")!.textContent!,
      })),
    );
    expect(charts.map((chart) => chart.quantity)).toEqual(["loss", "acc"]);
    const loss = charts[0];
    expect(loss.series).toEqual(["train_loss", "teacher train_loss", "val_loss", "teacher val_loss"]);
    expect(loss.lines).toBe(4);
    expect(loss.xTicks).toBeGreaterThan(2);
    expect(loss.yTicks).toBeGreaterThan(2);
    // Hovering a step's column shows every curve's value at that step, as the API has them (a NaN is not drawn).
    const histories = new Map(
      await Promise.all(
        loss.series.map(async (label) => {
          const [owner, key] = label!.startsWith("teacher ") ? [kd.run.teacher_run_id!, label!.slice("teacher ".length)] : [KD_STUDENT_RUN, label!];
          const { points } = await api<MetricHistoryResponse>(`/runs/${owner}/metrics/${key}`);
          return [label!, points.filter((p) => typeof p.value === "number")] as const;
        }),
      ),
    );
    const steps = [...new Set([...histories.values()].flat().map((p) => p.step))].sort((a, b) => a - b);
    const values = (step: number) =>
      [...histories].flatMap(([label, points]) => {
        const point = points.filter((p) => p.step === step).at(-1);
        return point ? [`${label} ${formatMetric(point.value as number)}`] : [];
      });
    expect(loss.hover).toEqual(steps.map((step) => `step ${step}: ${values(step).join(", ")}`));
    // The seeded NaN (val_loss at step 3): that step lists the other curves only.
    expect(loss.hover[steps.indexOf(3)]).toMatch(/^step 3: train_loss \S+, teacher train_loss \S+, teacher val_loss \S+$/);
    // The columns are what the pointer is over: the last one, at its centre, is hit.
    const hit = await kdPage.page.$eval(".charts figure .hover rect:last-child", (rect) => {
      rect.scrollIntoView({ block: "center" });
      const box = rect.getBoundingClientRect();
      return document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2)?.querySelector("title")?.textContent;
    });
    expect(hit).toBe(loss.hover[loss.hover.length - 1]);
    // The description reads each curve from its first value to its last: a falling loss falls, a rising accuracy rises.
    for (const [key, trend] of [
      ["train_loss", "falls"],
      ["val_acc", "rises"],
    ] as const) {
      const history = await api<MetricHistoryResponse>(`/runs/${KD_STUDENT_RUN}/metrics/${key}`);
      const finite = history.points.filter((p) => typeof p.value === "number");
      const [first, last] = [finite[0], finite[finite.length - 1]];
      const description = charts.find((chart) => chart.series.includes(key))!.description;
      expect(description).toContain(`${key} ${trend} from ${formatMetric(first.value as number)} at step ${first.step} to ${formatMetric(last.value as number)} at step ${last.step}`);
    }
    await screenshot(kdPage.page, "run-kd-student");
    await kdPage.close();

    const failed = await openPage(`/runs/${FAILED_RUN}/`, { width: 360, dark: true });
    expect(await failed.page.textContent('[data-field="error"]')).toBe(FAILED_ERROR);
    await screenshot(failed.page, "run-failed-360-dark");
    await failed.close();
  });

  test("run pages list the run's artifacts with sizes, and each link downloads the bytes that were uploaded (in Chromium)", async () => {
    const { run } = await api<RunDetailResponse>(`/runs/${KD_STUDENT_RUN}`);
    const listing = await api<{ files: Array<{ path: string; size: number; sha256: string }> }>(`/artifacts/${run.mlflow_run_id}`);
    expect(listing.files.map((f) => f.path)).toEqual(Object.keys(SEEDED_ARTIFACTS).sort());
    const { page, problems, close } = await openPage(`/runs/${KD_STUDENT_RUN}/`);
    const rows = await page.$$eval("table.artifacts tbody tr", (trs) =>
      trs.map((tr) => ({ path: tr.getAttribute("data-path"), text: tr.querySelector("a")!.textContent, size: tr.querySelector("td")!.textContent })),
    );
    expect(rows).toEqual(listing.files.map((f) => ({ path: f.path, text: f.path, size: formatBytes(f.size) })));
    expect(rows.find((r) => r.path === "checkpoints/best_model.pt")!.size).toBe("300.0 KiB");
    for (const file of listing.files) {
      // Chromium follows the link as the page would (same origin, the site's CSP) and hashes what it gets.
      const got = await page.$eval(`table.artifacts tr[data-path="${file.path}"] a`, async (a) => {
        const link = a as HTMLAnchorElement;
        const response = await fetch(link.href);
        const bytes = new Uint8Array(await response.arrayBuffer());
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        return {
          download: link.hasAttribute("download"),
          status: response.status,
          disposition: response.headers.get("Content-Disposition"),
          size: bytes.length,
          sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
          head: Array.from(bytes.slice(0, 16)),
        };
      });
      const name = file.path.slice(file.path.lastIndexOf("/") + 1);
      expect(got, file.path).toEqual({
        download: true,
        status: 200,
        disposition: `attachment; filename=${name}`,
        size: file.size,
        sha256: file.sha256,
        head: Array.from(SEEDED_ARTIFACTS[file.path].slice(0, 16)),
      });
      expect(createHash("sha256").update(SEEDED_ARTIFACTS[file.path]).digest("hex"), file.path).toBe(got.sha256);
    }
    expect(problems).toEqual([]);
    await close();
    // A run without artifacts says so; the plain MLflow run's page has the section too.
    const empty = await openPage(`/runs/${FAILED_RUN}/`);
    expect(await empty.page.textContent('[data-field="no-artifacts"]')).toBe("No artifacts stored for this run.");
    await empty.close();
    const plain = await openPage(`/experiments/${seeded.plainRun.experimentId}/runs/${seeded.plainRun.uuid}/`);
    expect(await plain.page.$$eval("h2", (hs) => hs.map((h) => h.textContent))).toContain("Artifacts (0)");
    await plain.close();
  });

  test("an export without artifact listings (ARTIFACTS_PUBLIC=false) lists no artifacts at all", async () => {
    const doc = await loadWhole({ SITE_API_URL: server.url });
    const kd = (site: ReturnType<typeof buildSiteData>) => site.byId.get(KD_STUDENT_RUN)!.artifacts;
    expect(kd(buildSiteData(doc))?.map((a) => a.path)).toEqual(Object.keys(SEEDED_ARTIFACTS).sort());
    const closed = buildSiteData({ ...doc, runs: doc.runs.map(({ artifacts: _, ...run }) => run) });
    expect(closed.runs.filter((run) => run.artifacts !== undefined)).toEqual([]);
    expect(closed.experiments.flatMap((e) => e.runs).filter((run) => run.artifacts !== undefined)).toEqual([]);
  });

  test("the MLflow client's run links (/#/experiments/<id>/runs/<uuid>) open the run's page; without JavaScript the lookup page lists the uuid", async () => {
    const detail = await api<RunDetailResponse>(`/runs/${RETRIED_RUN}`);
    // Every attempt's uuid leads to the run id's page, the older attempt's too.
    expect(detail.attempts.length).toBe(2);
    for (const attempt of detail.attempts) {
      const { page, problems, close } = await newPage();
      await page.goto(`${server.url}/#/experiments/1/runs/${attempt.mlflow_run_id}`);
      await page.waitForURL(`${server.url}/runs/${RETRIED_RUN}/`);
      expect(problems).toEqual([]);
      await close();
    }
    // A run of another experiment, named freely (the plain MLflow client), too.
    const plain = await newPage();
    await plain.page.goto(`${server.url}/#/experiments/${seeded.plainRun.experimentId}/runs/${seeded.plainRun.uuid}`);
    await plain.page.waitForURL(`${server.url}/experiments/${seeded.plainRun.experimentId}/runs/${seeded.plainRun.uuid}/`);
    expect(await plain.page.textContent("h1")).toBe(seeded.plainRun.name);
    expect(await plain.page.locator(".charts figure").count()).toBe(2);
    await plain.close();

    const unknown = await openPage(`/#/experiments/0/runs/${"e".repeat(32)}`);
    await unknown.page.waitForSelector("#run-link:not([hidden])");
    expect(await unknown.page.textContent("#run-link code")).toBe("e".repeat(32));
    await unknown.close();

    const uuid = detail.attempts[0].mlflow_run_id;
    const noScript = await openPage(`/#/experiments/1/runs/${uuid}`, { javaScript: false });
    await noScript.page.click('a[href="/lookup/"]');
    await noScript.page.click(`a[href="/lookup/${uuid[0]}/"]`);
    expect(await noScript.page.getAttribute(`a:has(code:text-is("${uuid}"))`, "href")).toBe(`/runs/${RETRIED_RUN}/`);
    await noScript.close();
  });

  test("failed and running runs are listed with their error messages", async () => {
    const { page, close } = await openPage("/status/");
    const failed = await page.$$eval("table.failed tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-run-id"), tr.querySelector("td.error")!.textContent]));
    expect(failed).toEqual([[FAILED_RUN, FAILED_ERROR]]);
    const running = await page.$$eval("table.running tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-run-id")));
    expect(running.sort()).toEqual([RERUNNING_RUN, RUNNING_RUN].sort());
    await screenshot(page, "status");
    await close();
  });

  test("reads without JavaScript", async () => {
    const noScript = await openPage("/leaderboard/hcrl_sa/", { javaScript: false, width: 360 });
    expect(await noScript.page.locator("table.leaderboard tbody tr").count()).toBe(3);
    expect(await noScript.page.locator("button.sort").count()).toBe(0);
    await noScript.close();
  });

  test("every page type fits 360 and 1366 px in light and dark with nothing scrolling sideways, and axe-core finds no violation", async () => {
    const pageTypes = {
      overview: "/",
      leaderboard: "/leaderboard/",
      "leaderboard-dataset": "/leaderboard/hcrl_sa/",
      ranking: "/ranking/vgae_auc/",
      kd: "/kd/",
      status: "/status/",
      "run-training": `/runs/${KD_STUDENT_RUN}/`,
      "run-evaluation": `/runs/${RETRIED_RUN}/`,
      "run-failed": `/runs/${FAILED_RUN}/`,
      experiments: "/experiments/",
      lookup: "/lookup/",
    };
    const axeSource = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
    const failures: string[] = [];
    for (const [type, path] of Object.entries(pageTypes)) {
      // One load per page type; the four screens are the same page resized and re-themed (the site's
      // layout and colours are CSS media queries, which follow both at once).
      const { page, problems, close } = await openPage(path, { bypassCSP: true });
      // The test's own script (not the site's): CSP is bypassed for it only.
      await page.evaluate(axeSource);
      for (const width of [360, 1366]) {
        for (const dark of [false, true]) {
          const name = `${type}-${width}-${dark ? "dark" : "light"}`;
          await page.setViewportSize({ width, height: 900 });
          await page.emulateMedia({ colorScheme: dark ? "dark" : "light" });
          // No element of the page (table, chart, caption, identifier) is wider than the screen.
          const { scrollWidth, clientWidth, wide } = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            clientWidth: document.documentElement.clientWidth,
            wide: Array.from(document.querySelectorAll(".scroll"))
              .filter((el) => el.scrollWidth > el.clientWidth + 1)
              .map((el) => el.getAttribute("aria-label")),
          }));
          if (scrollWidth > clientWidth) failures.push(`${name}: page scrolls sideways (${scrollWidth} > ${clientWidth})`);
          if (width === 360 && wide.length > 0) failures.push(`${name}: sideways scrolling inside ${wide.join(", ")}`);
          await screenshot(page, name);
          // axe in each theme (its colours) and at each width (its layout), as light at 360 px and dark
          // at 1366 px: the other two pairings repeat the same checks, and axe is most of this test's time.
          if (dark !== (width === 1366)) continue;
          // Violations only: axe then skips describing every passing node, most of its time.
          const violations = await page.evaluate(async () => {
            const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } })
              .axe;
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => `${v.id} (${v.nodes.length}: ${JSON.stringify(v.nodes[0]?.target)})`);
          });
          failures.push(...violations.map((v) => `${name}: axe ${v}`));
        }
      }
      failures.push(...problems.map((p) => `${type}: ${p}`));
      await close();
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
