/** `kdgat migrate` killed at every step, moving folders by rename (test/cli/support/crash-suite.ts). */
import { crashSuite } from "./support/crash-suite.js";

crashSuite("kdgat migrate crash safety (rename)", { datasets: ["set_02"], stages: ["normal", "evaluation"] }, {}, 1);
