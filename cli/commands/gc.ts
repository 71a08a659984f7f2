/**
 * `kdgat gc --admin-token T [--older-than-days N] [--dry-run]`: removes the artifacts of runs
 * deleted more than N days ago (default 30), calling POST /api/v1/admin/gc until nothing is left.
 */
import type { Command } from "commander";
import type { GcResponse } from "../../functions/api/contract.js";
import { ApiClient, type ConnectionFlags, withAdminTokenOption, withConnectionOptions } from "../api-client.js";
import { UsageError } from "../errors.js";

interface GcFlags extends ConnectionFlags {
  olderThanDays: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerGc(program: Command): void {
  const command = program
    .command("gc")
    .description("remove the artifacts of runs deleted more than --older-than-days ago (a deleted run keeps them until then, for a restore); needs the admin token")
    .option("--older-than-days <n>", "only runs deleted at least this many days ago", "30")
    .option("--dry-run", "count what would be removed; remove nothing")
    .option("--json", "print the totals as JSON");
  withAdminTokenOption(withConnectionOptions(command)).action(async (flags: GcFlags) => {
    if (!/^\d{1,5}$/.test(flags.olderThanDays)) throw new UsageError(`--older-than-days ${flags.olderThanDays}: expected a whole number of days`);
    const client = ApiClient.forAdmin(flags);
    const body = { older_than_days: Number(flags.olderThanDays), dry_run: flags.dryRun === true };
    const total = { runs: 0, files: 0, bytes: 0, more: false };
    for (;;) {
      const page = await client.json<GcResponse>("POST", "/api/v1/admin/gc", { body });
      total.runs += page.runs;
      total.files += page.files;
      total.bytes += page.bytes;
      // A dry run removes nothing, so calling again would count the same files: one page, "at least".
      total.more = page.more && body.dry_run;
      if (!page.more || body.dry_run) break;
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...total, dry_run: body.dry_run, older_than_days: body.older_than_days })}\n`);
      return;
    }
    const verb = body.dry_run ? "would remove" : "removed";
    process.stdout.write(
      `${verb} ${total.more ? "at least " : ""}${total.files} artifact file(s), ${total.bytes} bytes, of ${total.runs} run(s) deleted more than ${body.older_than_days} day(s) ago\n`,
    );
  });
}
