// A real local HTTP endpoint in place of the Workers Builds Deploy Hook, for the cron tests
// (test/worker/site-refresh.test.ts): POST /<name> is one hook call (answered 200, or 500 when the
// name starts with "fail"); GET /<name> answers {"calls": N}. Started by vitest.config.ts.
import { createServer } from "node:http";

/** Listens on a free port of 127.0.0.1; resolves to its base URL. The server never keeps the process alive. */
export async function startDeployHook() {
  const calls = new Map();
  const server = createServer((req, res) => {
    const name = (req.url ?? "/").split("?")[0];
    req.resume();
    if (req.method === "POST") {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      res.writeHead(name.startsWith("/fail") ? 500 : 200, { "Content-Type": "application/json" });
      return res.end('{"result":{"build":{}}}');
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ calls: calls.get(name) ?? 0 }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${server.address().port}`;
}
