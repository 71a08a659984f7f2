/**
 * `kdgat migrate` killed at every step, moving folders by rename (test/cli/support/crash-suite.ts).
 * Three run folders (a teacher, a student and a KD student) share parents at two levels: every kind
 * of step (journal records, folder moves, new parents, folder times set back) at every place.
 */
import { crashSuite } from "./support/crash-suite.js";

crashSuite("kdgat migrate crash safety (rename)", { datasets: ["set_02"], stages: ["normal"] }, {}, 1);
