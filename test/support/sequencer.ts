/**
 * The order vitest hands test files to its workers: the longest first, across projects, so that the
 * short files fill in around them (vitest's own order runs project after project by name, which
 * started the longest file, the site's Chromium suite, after two thirds of the run). The durations
 * come from vitest's cache of the last run when it knows every file; a fresh clone (CI) has no cache,
 * and then the files below (the longest, measured on this 2-core machine) go first.
 */
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const LONGEST_FIRST = [
  "test/site/site.test.ts",
  "test/cli/migrate-crash-rename.test.ts",
  "test/cli/migrate-crash-copy.test.ts",
  "test/cli/tracker.test.ts",
  "test/client/artifacts.test.ts",
  "test/cli/migrate.test.ts",
  "test/cli/backfill-outage.test.ts",
  "test/cli/kdgat-log.test.ts",
  "test/client/tracking.test.ts",
  "test/site/builders.test.ts",
  "test/cli/query.test.ts",
];

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const path = (file: TestSpecification) => relative(this.ctx.config.root, file.moduleId);
    const durations = new Map(ordered.map((file) => [file, this.ctx.cache.getFileTestResults(`${file.project.name}:${path(file)}`)?.duration]));
    if ([...durations.values()].every((duration) => duration !== undefined)) return ordered.sort((a, b) => durations.get(b)! - durations.get(a)!);
    const rank = (file: TestSpecification) => {
      const index = LONGEST_FIRST.indexOf(path(file));
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    return ordered.sort((a, b) => rank(a) - rank(b));
  }
}
