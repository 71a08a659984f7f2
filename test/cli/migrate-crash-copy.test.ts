/** `kdgat migrate` killed at every 7th step, copying across filesystems (test/cli/support/crash-suite.ts). */
import { crashSuite } from "./support/crash-suite.js";

crashSuite("kdgat migrate crash safety (copy across filesystems)", { datasets: ["set_03"], stages: ["fusion"] }, { KDGAT_MIGRATE_FORCE_COPY: "1" }, 7);
