// setupFile of the node projects (vitest.config.ts): the FC_NUM_RUNS knob (test/support/fast-check.ts).
import { applyRunCount } from "./fast-check.js";

applyRunCount(process.env.FC_NUM_RUNS);
