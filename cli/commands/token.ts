/** `kdgat token create|list|revoke`: write tokens for jobs, with the admin token. */
import type { Command } from "commander";
import { ApiClient, answer, type ConnectionFlags, withAdminTokenOption, withConnectionOptions } from "../api-client.js";
import { formatTime, renderTable, terminalSafe } from "../output.js";

interface TokenFlags extends ConnectionFlags {
  json?: boolean;
}

export function registerToken(program: Command): void {
  const token = program.command("token").description("manage the tracker's write tokens (needs the admin token)");
  const withOptions = (command: Command) => withAdminTokenOption(withConnectionOptions(command)).option("--json", "print JSON");

  withOptions(token.command("create").description("mint a write token; it is shown once").argument("<name>", "a name for the token, e.g. slurm")).action(
    async (name: string, flags: TokenFlags) => {
      const created = await answer(ApiClient.forAdmin(flags).v1.tokens.$post({ json: { name } }));
      process.stdout.write(flags.json ? `${JSON.stringify(created)}\n` : `${created.token}\n`);
      if (!flags.json) process.stderr.write(`token '${terminalSafe(created.name)}' created; export KDGAT_TOKEN=<it> in your jobs (it is not shown again)\n`);
    },
  );

  withOptions(token.command("list").description("list tokens (names and dates, never the secrets)")).action(async (flags: TokenFlags) => {
    const { tokens } = await answer(ApiClient.forAdmin(flags).v1.tokens.$get());
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
      return;
    }
    const table = renderTable(
      [
        { header: "NAME", value: (t) => t.name, identifier: true },
        { header: "CREATED", value: (t) => formatTime(t.created_at) },
        { header: "LAST USED", value: (t) => formatTime(t.last_used_at) },
        { header: "REVOKED", value: (t) => formatTime(t.revoked_at) },
      ],
      tokens,
    );
    process.stdout.write(`${table}\n`);
  });

  withOptions(token.command("revoke").description("revoke a token: jobs using it can no longer write").argument("<name>", "the token's name")).action(
    async (name: string, flags: TokenFlags) => {
      await answer(ApiClient.forAdmin(flags).v1.tokens[":name"].$delete({ param: { name: encodeURIComponent(name) } }));
      process.stdout.write(flags.json ? `${JSON.stringify({ name, revoked: true })}\n` : `token '${terminalSafe(name)}' revoked\n`);
    },
  );
}
