// Writes benchmark results: raw JSON under bench/results/ (git-ignored) and a generated block inside
// a named section of bench/README.md, between markers, leaving everything else in the file alone.
import { execSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const README = join(BENCH_DIR, "README.md");

export function saveJson(name, data) {
  const dir = join(BENCH_DIR, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** The machine and what else was running when a figure was taken (the README reports it). */
export function environmentNote() {
  let busy = "";
  try {
    // The heaviest other processes by CPU (this process and its servers included).
    busy = execSync("ps -eo pcpu=,comm= --sort=-pcpu | head -5", { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((line) => line.trim().replace(/\s+/, "% "))
      .join(", ");
  } catch {}
  return {
    at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
    loadavg: loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
    topProcesses: busy,
  };
}

/**
 * Replaces the generated block of `section` in bench/README.md (creating the section, or the file,
 * when missing). The block sits between `<!-- bench:<id>:start -->` and `<!-- bench:<id>:end -->`;
 * text outside it, including other engineers' sections, is kept byte for byte.
 */
export function writeReadmeBlock(id, heading, markdown) {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = existsSync(README) ? readFileSync(README, "utf8") : "# Benchmarks\n";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) {
    text = text.slice(0, from) + block + text.slice(to + end.length);
  } else {
    text = `${text.trimEnd()}\n\n## ${heading}\n\n${block}\n`;
  }
  writeFileSync(README, text);
}

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
