/** The artifact path and type rules of the core (functions/domain/artifacts.ts), against MLflow 2.17.2's own answers. */
import { describe, expect, it } from "vitest";
import { artifactDownloadPath, artifactMimeType, runArtifactPath, safeArtifactPath } from "../../functions/domain/artifacts";
import { sampleSteps } from "../../functions/mlflow/metrics";

const RUN = "0123456789abcdef0123456789abcdef";

describe("safeArtifactPath: MLflow's validate_path_is_safe, stricter where MLflow fails or is OS-dependent", () => {
  it.each([
    ["a/b.txt", "a/b.txt"],
    ["a%20b.txt", "a b.txt"],
    ["%2561", "a"],
    ["épsilon.txt", "épsilon.txt"],
    ["bad%zz", "bad%zz"],
  ])("accepts %s as %s", (path, decoded) => expect(safeArtifactPath(path)).toBe(decoded));

  it.each(["../x", "a/../b", "%2E%2E/x", "%252E%252E/x", "/etc/passwd", "%2Fetc", "C:/x", "a#b", "a\\b", "a\u0000b", "a\nb", "a\u007fb"])("refuses %j", (path) =>
    expect(safeArtifactPath(path)).toBeUndefined(),
  );
});

describe("runArtifactPath: only a run's artifact root", () => {
  it("splits the experiment, the run and the path inside its root", () => {
    expect(runArtifactPath(`12/${RUN}/artifacts/ckpt/best.pt`)).toEqual({ experimentId: 12, runUuid: RUN, path: "ckpt/best.pt" });
    expect(runArtifactPath(`0/${RUN}/artifacts`)).toEqual({ experimentId: 0, runUuid: RUN, path: "" });
    expect(runArtifactPath(`0/${RUN}/artifacts/sub/`)).toEqual({ experimentId: 0, runUuid: RUN, path: "sub" });
  });

  it.each([
    "0",
    `0/${RUN}`,
    `0/${RUN}/other/x`,
    `01/${RUN}/artifacts/x`,
    `0/${RUN.toUpperCase()}/artifacts/x`,
    `0/${RUN}/artifacts/a//b`,
    `0/${RUN}/artifacts/./b`,
    `0/${RUN}/artifacts/${"x".repeat(1000)}`,
  ])("refuses %s", (path) => expect(runArtifactPath(path)).toBeUndefined());
});

describe("artifactMimeType: MLflow's _guess_mime_type", () => {
  // Recorded with MLflow 2.17.2's _guess_mime_type on this machine (.pt is left out: Python reads it
  // from the system's /etc/mime.types, here "application/vnd.snesdev-page-table").
  it.each([
    ["a.txt", "text/plain"],
    ["a.json", "text/plain"],
    ["MLmodel", "text/plain"],
    ["slurm.err", "text/plain"],
    ["a.JSON", "application/json"],
    ["a.png", "image/png"],
    ["a.PNG", "image/png"],
    ["a.svg", "image/svg+xml"],
    ["a.html", "text/html"],
    ["a.tar", "application/x-tar"],
    ["a.gz", "application/octet-stream"],
    ["a.ckpt", "application/octet-stream"],
    [".bashrc", "application/octet-stream"],
  ])("%s is %s", (name, type) => expect(artifactMimeType(name)).toBe(type));
});

describe("sampleSteps: MLflow's _get_sampled_steps_from_steps", () => {
  it("keeps all steps in range when they fit, else samples evenly and keeps the last", () => {
    expect([...sampleSteps(0, 7, 2, [0, 1, 2, 3, 7])].sort((a, b) => a - b)).toEqual([0, 2, 7]);
    expect([...sampleSteps(1, 2, 10, [0, 1, 2, 3, 7])]).toEqual([1, 2]);
    expect(
      [
        ...sampleSteps(
          0,
          99,
          4,
          Array.from({ length: 100 }, (_, i) => i),
        ),
      ].sort((a, b) => a - b),
    ).toEqual([0, 25, 50, 75, 99]);
    // MLflow compares the index with the count of steps in range, not with the end: a late range samples little.
    expect(
      [
        ...sampleSteps(
          50,
          99,
          5,
          Array.from({ length: 100 }, (_, i) => i),
        ),
      ].sort((a, b) => a - b),
    ).toEqual([99]);
    expect([...sampleSteps(0, 0, 3, [])]).toEqual([]);
  });
});

describe("artifactDownloadPath: the link the site puts on a run's artifact", () => {
  it("names the proxy's GET of the file inside the run's root, each segment percent-encoded", () => {
    expect(artifactDownloadPath(3, RUN, "ckpt/best model#1.pt")).toBe(`/api/2.0/mlflow-artifacts/artifacts/3/${RUN}/artifacts/ckpt/best%20model%231.pt`);
    expect(artifactDownloadPath(0, RUN, "slurm.out")).toBe(`/api/2.0/mlflow-artifacts/artifacts/0/${RUN}/artifacts/slurm.out`);
  });
});
