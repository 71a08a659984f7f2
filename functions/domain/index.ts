/** The one definition of the KD-GAT domain, shared by the worker, the CLI and the site. */

export * from "./concurrency.js";
export * from "./csv.js";
export * from "./export-document.js";
export * from "./flatten.js";
export * from "./keys.js";
export * from "./layout.js";
export * from "./metric-sources/index.js";
export * from "./metrics.js";
export * from "./params.js";
export * from "./python-json.js";
export * from "./ranking.js";
export * from "./retry.js";
export * from "./run-id.js";
export * from "./sessions.js";
export * from "./stages.js";
export * from "./tags.js";
