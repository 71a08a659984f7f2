/**
 * A run id's page (/runs/<dataset>/<name>/): its attempts, lineage, score grids, latest metrics,
 * metric histories, artifacts, params and tags, as one HTML string. The ~10,000 run pages of a large
 * export are most of the site, and Astro's per-page rendering cost more than all of our own work, so
 * they are not Astro pages: Astro renders the layout (layouts/Base.astro) once into a shell
 * (pages/run-shell.astro, with the markers below) and run-pages.ts writes each run's page into it.
 */
import { chartHtml, runCharts } from "./chart.js";
import { type MetricGrid, modelMetricGrid, paramGroups, type RunView, runHref, SITE_EXPERIMENT, type SiteData, scenarioGrid } from "./data.js";
import { breakableHtml, escapeHtml, formatDuration, formatMetric, formatTime, isoTime, sortValue } from "./format.js";
import { artifactsHtml, scrollHtml, statusHtml } from "./markup.js";

/** Where the shell page is built (and removed once the run pages are written), and its two markers. */
export const SHELL_PAGE = "run-shell";
export const SHELL_TITLE = "KDGAT-RUN-SHELL-TITLE";
export const SHELL_BODY = "<!--kdgat-run-shell-body-->";

/** The page's title (Base.astro's `title`): the run id. */
export function runPageTitle(run: RunView): string {
  return run.id;
}

const time = (ms: number | null) => (ms === null ? "—" : `<time datetime="${isoTime(ms)}">${formatTime(ms)}</time>`);
const table = (className: string, caption: string, head: string[], body: string, attributes = "") =>
  `<table class="${className}"${attributes}><caption>${caption}</caption><thead><tr>${head.join("")}</tr></thead><tbody>${body}</tbody></table>`;
const col = (name: string, numeric = false) => `<th scope="col"${numeric ? ' data-sort-type="number"' : ""}>${name}</th>`;

/** The page's content: what Base.astro's <main> holds after the title. */
export function runPageHtml(run: RunView, site: SiteData): string {
  const teacher = run.teacherRunId ? site.byId.get(run.teacherRunId) : undefined;
  const duration = run.endTime === null ? null : run.endTime - run.startTime;
  const grids = runGrids(run);
  const facts: Array<[string, string, string?]> = [
    ["Status", statusHtml(run.status), "status"],
    ["Dataset", `<a href="/leaderboard/${escapeHtml(run.dataset)}/">${escapeHtml(run.dataset)}</a>`],
    ["Stage", escapeHtml(run.stage)],
    ["Group", escapeHtml(run.group)],
    ["Started", time(run.startTime)],
    ["Ended", time(run.endTime)],
    ["Duration", formatDuration(duration)],
    ["Attempts", String(run.attempts.length), "attempts"],
    ["Experiment", escapeHtml(SITE_EXPERIMENT)],
  ];
  const parts = [
    `<dl class="facts">${facts.map(([name, value, field]) => `<div><dt>${name}</dt><dd${field ? ` data-field="${field}"` : ""}>${value}</dd></div>`).join("")}</dl>`,
    run.errorMsg ? `<p class="error" role="note"><strong>Error:</strong> <span data-field="error">${escapeHtml(run.errorMsg)}</span></p>` : "",
    `<h2>Lineage</h2>${lineageHtml(run, teacher)}`,
    `<h2>Attempts</h2>${attemptsHtml(run)}`,
    gridsHtml(run, grids),
    // The full list is folded when the grids above show the scores.
    metricsHtml(run, grids.length === 0),
    chartsHtml(run, teacher),
    artifactsHtml(run.artifacts, `Stored files of the latest attempt of ${run.id}`),
    paramsHtml(run),
    tagsHtml(run),
  ];
  return parts.join("");
}

function lineageHtml(run: RunView, teacher: RunView | undefined): string {
  const items: string[] = [];
  if (run.teacherRunId) {
    const id = escapeHtml(run.teacherRunId);
    items.push(`<li>Teacher: ${teacher ? `<a href="${escapeHtml(teacher.href)}" rel="up">${id}</a>` : `${id} (not in the tracker)`}</li>`);
  }
  for (const student of run.students) items.push(`<li>KD student: <a href="${escapeHtml(runHref(student))}">${escapeHtml(student)}</a></li>`);
  if (!run.teacherRunId && run.students.length === 0) items.push("<li>No teacher or KD students recorded.</li>");
  return `<ul class="lineage">${items.join("")}</ul>`;
}

function attemptsHtml(run: RunView): string {
  const rows = run.attempts
    .map(
      (a) =>
        `<tr><th scope="row">${a.number}</th><td data-label="Status">${statusHtml(a.status)}</td><td data-label="Started">${formatTime(a.startTime)}</td>` +
        `<td data-label="Ended">${formatTime(a.endTime)}</td><td data-label="Duration">${formatDuration(a.endTime === null ? null : a.endTime - a.startTime)}</td>` +
        `<td data-label="MLflow run"><code>${escapeHtml(a.mlflowRunId)}</code></td></tr>`,
    )
    .join("");
  const head = ["#", "Status", "Started", "Ended", "Duration", "MLflow run"].map((name) => col(name));
  return scrollHtml("Attempts", table("attempts reflow", `Every attempt of ${escapeHtml(run.id)}, oldest first`, head, rows));
}

/** An evaluation's scores as grids: models x metrics, and test scenarios x models. */
function gridsHtml(run: RunView, grids: RunGrid[]): string {
  return grids
    .map(({ title, caption, grid }) => {
      const rows = grid.rows
        .map((row) => {
          const cells = grid.models.map((model) => {
            const key = grid.key(row, model);
            const value = key === undefined ? undefined : run.latest[key].value;
            return `<td class="num" data-value="${sortValue(value)}" data-label="${model}"${key ? ` data-key="${escapeHtml(key)}"` : ""}>${formatMetric(value)}</td>`;
          });
          return `<tr><th scope="row">${breakableHtml(row)}</th>${cells.join("")}</tr>`;
        })
        .join("");
      const head = [col(title === "Scores" ? "Metric" : "Scenario"), ...grid.models.map((model) => col(model, true))];
      return `<h2>${title}</h2>${scrollHtml(title, table("grid reflow", caption, head, rows, " data-sortable"))}`;
    })
    .join("");
}

interface RunGrid {
  title: string;
  caption: string;
  grid: MetricGrid;
}

function runGrids(run: RunView): RunGrid[] {
  return [
    { title: "Scores", caption: "Each model's scores (rows: metrics, columns: models)", grid: modelMetricGrid(run) },
    { title: "Test scenarios", caption: "Each model's test-scenario f1 (rows: scenarios, columns: models)", grid: scenarioGrid(run) },
  ].filter(({ grid }) => grid.rows.length > 0 && grid.models.length > 1);
}

/** Every latest metric, one per row. */
function metricsHtml(run: RunView, open: boolean): string {
  const keys = Object.keys(run.latest).sort();
  const heading = `<h2>Latest metrics (${keys.length})</h2>`;
  if (keys.length === 0) return `${heading}<p data-field="no-metrics">No metrics logged: this run has no results.</p>`;
  const rows = keys
    .map((key) => {
      const { value, step } = run.latest[key];
      return `<tr data-key="${escapeHtml(key)}"><th scope="row">${breakableHtml(key)}</th><td class="num" data-value="${sortValue(value)}">${formatMetric(value)}</td><td class="num" data-value="${step}">${step}</td></tr>`;
    })
    .join("");
  const metrics = table("metrics", "Latest value of every metric of the latest attempt", [col("Metric"), col("Value", true), col("Step", true)], rows, " data-sortable data-filterable");
  return `${heading}<details${open ? " open" : ""}><summary>Every metric, one per row (${keys.length})</summary>${scrollHtml("Latest metrics", metrics)}</details>`;
}

/** One chart per quantity (train and val together), a KD student's over its teacher's. */
function chartsHtml(run: RunView, teacher: RunView | undefined): string {
  const charts = runCharts(run, teacher);
  if (charts.length === 0) return "";
  const note = teacher ? `<p class="note">Dashed: the teacher's curves (<a href="${escapeHtml(teacher.href)}">${escapeHtml(teacher.id)}</a>).</p>` : "";
  return `<h2>Metric histories</h2>${note}<div class="charts">${charts.map(chartHtml).join("")}</div>`;
}

/** Params by group (gat_*, vgae_*, ...), each folded. */
function paramsHtml(run: RunView): string {
  const groups = paramGroups(run.params)
    .map((group) => {
      const name = escapeHtml(group.name);
      const rows = group.entries.map(([key, value]) => `<tr><th scope="row">${breakableHtml(key)}</th><td><code>${escapeHtml(value)}</code></td></tr>`).join("");
      const params = table("params", `Params ${name}`, [col("Param"), col("Value")], rows);
      return `<details class="params-group"><summary>${name} (${group.entries.length})</summary>${scrollHtml(`Params: ${group.name}`, params)}</details>`;
    })
    .join("");
  return `<h2>Params (${Object.keys(run.params).length})</h2><p class="note">The frozen config.json, grouped by the params' first word.</p>${groups}`;
}

function tagsHtml(run: RunView): string {
  const entries = Object.entries(run.tags);
  const rows = entries.map(([key, value]) => `<tr><th scope="row" class="ident">${breakableHtml(key)}</th><td class="ident">${escapeHtml(value)}</td></tr>`).join("");
  return `<h2>Tags (${entries.length})</h2>${scrollHtml("Tags", table("tags", "Every tag of the latest attempt", [col("Tag"), col("Value")], rows))}`;
}
