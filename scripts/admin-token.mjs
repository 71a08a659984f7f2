// The admin token of a local tracker that a script, a benchmark or a test starts, read in this one
// place: KDGAT_ADMIN_TOKEN when set (the variable the CLI reads too), else a random token for this
// process. The workerd tests get it as their ADMIN_TOKEN binding (vitest.config.ts), the Node tests
// through test/support/server.ts, the benchmarks through bench/lib/server.mjs.
import { randomBytes } from "node:crypto";

export const ADMIN_TOKEN = process.env.KDGAT_ADMIN_TOKEN || randomBytes(24).toString("hex");
