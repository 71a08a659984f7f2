/** The one definition of the KD-GAT domain, shared by the worker, the CLI and the site. */
export * from "./stages.js";
export * from "./run-id.js";
export * from "./layout.js";
export * from "./python-json.js";
export * from "./params.js";
export * from "./flatten.js";
export * from "./metrics.js";
export * from "./tags.js";
export * from "./csv.js";
export * from "./ranking.js";
export * from "./export-document.js";
export * from "./keys.js";
export * from "./metric-sources/index.js";
export * from "./sessions.js";
