/**
 * The metric sources of the core (functions/domain/metric-sources/): each format parsed into the
 * one point shape, the same code the Worker's upload route and the CLI's backfill run.
 */
import { describe, expect, it } from "vitest";
import { csvUploadsOf } from "../../cli/backfill/backfill.js";
import { formatCsv, parseCsv } from "../../functions/domain/csv.js";
import { LIMITS } from "../../functions/domain/limits.js";
import { type MetricPoint, MetricSourceError, readMetricPoints } from "../../functions/domain/metric-sources/index.js";

const pointsOf = (...args: Parameters<typeof readMetricPoints>): MetricPoint[] => readMetricPoints(...args).points;

const base = { timestamp: 1_000, step: 7 };
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MetricSourceError);
    return (error as Error).message;
  }
  throw new Error("not refused");
};
const file = (name: string, text: string) => ({ name, bytes: Buffer.from(text) });

describe("CSV records", () => {
  it("a quoted cell keeps its separators, doubled quotes and line breaks; each record names the line it starts on", () => {
    const text = 'a,b\r\n"x,1","say ""hi""\r\nthen\nbye"\n\nlast,"\r"\r\n';
    expect(parseCsv(text)).toEqual([
      { cells: ["a", "b"], line: 1 },
      { cells: ["x,1", 'say "hi"\r\nthen\nbye'], line: 2 },
      { cells: ["last", "\r"], line: 6 },
    ]);
    expect(parseCsv(formatCsv(["a", "b"], [["x,1", 'say "hi"\r\nthen\nbye']]))?.map((r) => r.cells)).toEqual([
      ["a", "b"],
      ["x,1", 'say "hi"\r\nthen\nbye'],
    ]);
    expect(parseCsv('a,"open')).toBeUndefined();
    expect(parseCsv(`a,${"x".repeat(11)}`, 10)).toBeUndefined();
  });
});

describe("Lightning metrics.csv", () => {
  it("each non-empty cell but step is a point at its row's step; data row i at base + i", () => {
    const points = pointsOf("epoch,step,loss,val\n0,10,0.5,\n,,,\n1,20,NaN,0.25\n", "csv", base);
    expect(points).toEqual([
      { key: "epoch", value: 0, step: 10, timestamp: 1_000 },
      { key: "loss", value: 0.5, step: 10, timestamp: 1_000 },
      { key: "epoch", value: 1, step: 20, timestamp: 1_002 },
      { key: "loss", value: Number.NaN, step: 20, timestamp: 1_002 },
      { key: "val", value: 0.25, step: 20, timestamp: 1_002 },
    ]);
  });

  it("a quoted line break stays inside its record, and a refusal names the line the record starts on", () => {
    const points = pointsOf('step,loss\n1,"0.5\n"\n2,0.25\n', "csv", base);
    expect(points.map((p) => [p.step, p.value, p.timestamp])).toEqual([
      [1, 0.5, 1_000],
      [2, 0.25, 1_001],
    ]);
    expect(refusal(() => pointsOf('step,loss\n1,"0.5\n\n"\n2,0.25,9\n', "csv", base))).toBe("metrics.csv line 5 has 3 cells; the header has 2.");
    expect(refusal(() => pointsOf("step,loss\n1,0.5\nx,1\n", "csv", base))).toBe("metrics.csv line 3 has no integer step.");
    expect(refusal(() => pointsOf("epoch,loss\n0,1\n", "csv", base))).toMatch(/needs a 'step' column/);
    expect(refusal(() => pointsOf('step,loss\n0,"1', "csv", base))).toMatch(/^Malformed CSV/);
  });
});

describe("JSON points and metrics.json", () => {
  it("points take their own step and timestamp, else step 0 and the base timestamp; metrics.json is flattened at the base step", () => {
    expect(pointsOf('[{"step": 3, "metrics": {"a": 1}}, {"timestamp": 5, "metrics": {"b": "Infinity"}}]', undefined, base)).toEqual([
      { key: "a", value: 1, step: 3, timestamp: 1_000 },
      { key: "b", value: Number.POSITIVE_INFINITY, step: 0, timestamp: 5 },
    ]);
    expect(pointsOf('{"gat": {"core": {"f1": 0.9}}}', undefined, base)).toEqual([{ key: "gat_f1", value: 0.9, step: 7, timestamp: 1_000 }]);
    expect(pointsOf('{"metrics": 1}', "metrics.json", base)).toEqual([{ key: "metrics", value: 1, step: 7, timestamp: 1_000 }]);
  });

  it("refuses what is not a point, naming the field", () => {
    expect(refusal(() => pointsOf('[{"step": 1.5, "metrics": {}}]', "json", base))).toMatch(/^Invalid value 1\.5 for parameter '0\.step'/);
    expect(refusal(() => pointsOf('{"timestamp": -1, "metrics": {"a": 1}}', "json", base))).toMatch(/for parameter 'timestamp'/);
    expect(refusal(() => pointsOf('{"step": 1, "metrics": {"a": 1}, "x": 2}', "json", base))).toMatch(/^Unrecognized field 'x'/);
    expect(refusal(() => pointsOf('[{"step": 1}]', "json", base))).toMatch(/^Missing value for required parameter '0\.metrics'/);
    expect(refusal(() => pointsOf('{"metrics": {"a": "high"}}', "json", base))).toMatch(/^Invalid value "high" for metric 'a'/);
    expect(refusal(() => pointsOf("[1, 2]", "metrics.json", base))).toBe("A metrics.json body must be a JSON object.");
    expect(refusal(() => pointsOf("{", undefined, base))).toBe("Malformed JSON in request body.");
    expect(refusal(() => pointsOf("[]", undefined, base))).toBe("The upload holds no metric points.");
  });
});

describe("timestamps without a base", () => {
  it("are offsets from the attempt's start when no point has its own, final when all have, and mixed otherwise", () => {
    const noBase = { step: 0 };
    const offsets = readMetricPoints("step,loss\n1,0.5\n2,0.25\n", "csv", noBase);
    expect(offsets.timestamps).toBe("start");
    expect(offsets.points.map((p) => p.timestamp)).toEqual([0, 1]);
    expect(readMetricPoints('{"timestamp": 5, "metrics": {"a": 1}}', "json", noBase).timestamps).toBe("given");
    expect(readMetricPoints('[{"timestamp": 5, "metrics": {"a": 1}}, {"metrics": {"b": 2}}]', "json", noBase).timestamps).toBe("mixed");
    expect(readMetricPoints('[{"timestamp": 5, "metrics": {"a": 1}}, {"metrics": {"b": 2}}]', "json", base).timestamps).toBe("given");
    expect(readMetricPoints('{"gat": {"f1": 0.9}}', "metrics.json", noBase).timestamps).toBe("start");
  });
});

describe("the CLI's metrics.csv uploads", () => {
  /** The points the tracker stores for the uploads of a run whose start time is `start`. */
  const uploadedPoints = (uploads: NonNullable<ReturnType<typeof csvUploadsOf>["uploads"]>, start: number): MetricPoint[] =>
    uploads.flatMap((u) => pointsOf(u.body, "csv", { timestamp: start + u.firstRow, step: 0 }));

  it("are cut at record boundaries, quoted line breaks included, and carry the points of the whole history", () => {
    // Rows of ~1 KB whose value cells hold quoted line breaks: over 4 MB, so several uploads.
    const digits = "1".repeat(1000);
    const rows = Array.from({ length: 5_000 }, (_, i) => `${i},"0.${digits}\r\n"`);
    const first = `step,loss\n${rows.join("\n")}\n`;
    const second = 'step,loss\n1,"\n0.5"\n2,0.25\n';
    const { uploads, problem } = csvUploadsOf([file("version_0/metrics.csv", first), file("version_1/metrics.csv", second)]);
    expect(problem).toBeUndefined();
    expect(uploads!.length).toBeGreaterThan(2);
    for (const upload of uploads!) expect(Buffer.byteLength(upload.body)).toBeLessThanOrEqual(4 * 1024 * 1024 + 20);
    // The second file's rows follow the first's 5,000 records, not its 10,000 lines.
    expect(uploads!.at(-1)).toMatchObject({ file: "version_1/metrics.csv", firstRow: 5_000, firstLine: 2 });
    expect(uploads!.find((u) => u.firstRow > 0 && u.file === "version_0/metrics.csv")!.firstLine % 2).toBe(0);
    const whole = [...pointsOf(first, "csv", { timestamp: 0, step: 0 }), ...pointsOf(second, "csv", { timestamp: 5_000, step: 0 })];
    expect(uploadedPoints(uploads!, 0)).toEqual(whole);
  });

  it("hold at most an upload's points, and a malformed file is found before anything is sent", () => {
    const wide = `step,${Array.from({ length: 50 }, (_, i) => `m${i}`).join(",")}\n`;
    const text = wide + Array.from({ length: 4_000 }, (_, i) => `${i}${",1".repeat(50)}`).join("\n");
    const { uploads } = csvUploadsOf([file("metrics.csv", text)]);
    expect(uploads!.length).toBe(2);
    for (const upload of uploads!) expect(pointsOf(upload.body, "csv", base).length).toBeLessThanOrEqual(LIMITS.maxPointsPerUpload);
    expect(uploadedPoints(uploads!, 0)).toHaveLength(200_000);

    expect(csvUploadsOf([file("lightning_logs/version_0/metrics.csv", "step,loss\n1,0.5\n2,0.5,1\n")])).toEqual({
      problem: "lightning_logs/version_0/metrics.csv: metrics.csv line 3 has 3 cells; the header has 2.",
    });
    expect(csvUploadsOf([file("metrics.csv", "\n")])).toEqual({ uploads: [] });
  });
});
