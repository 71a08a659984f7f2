/**
 * Both servers of a differential test: our Worker (a real local server with a fresh D1) and MLflow's
 * own server, on ports of this project's range (9400-9449), two per test file.
 */
import { startTestServer, type TestServer } from "../../support/server.js";
import { clientMissing, type MlflowServer, normalise, runPython, startMlflowServer, type Target } from "./mlflow.js";

export const PORT_BASE = 9400;

export interface Targets {
  kdgat: Target;
  mlflow: Target;
  server: TestServer;
  mlflowServer: MlflowServer;
  /** The script against both servers at once: each one's JSON, normalised. */
  both(script: string, options?: { args?: string[]; env?: Record<string, string> }): Promise<{ ours: any; theirs: any }>;
  stop(): Promise<void>;
}

/** Starts both servers on PORT_BASE + 2 * slot and the port after it (slot: one per test file). */
export async function startTargets(slot: number): Promise<Targets> {
  if (clientMissing) throw new Error(clientMissing);
  const [server, mlflowServer] = await Promise.all([startTestServer({ port: PORT_BASE + 2 * slot }), startMlflowServer(PORT_BASE + 2 * slot + 1)]);
  const token = await server.mintToken("mlflow-client");
  const kdgat: Target = { name: "kdgat", url: server.url, token };
  const mlflow: Target = { name: "mlflow", url: mlflowServer.url, token: "unused" };
  return {
    kdgat,
    mlflow,
    server,
    mlflowServer,
    async both(script, options = {}) {
      const [ours, theirs] = await Promise.all([runPython(script, kdgat, options), runPython(script, mlflow, options)]);
      return { ours: normalise(ours.json), theirs: normalise(theirs.json) };
    },
    async stop() {
      await Promise.all([server.stop(), mlflowServer.stop()]);
    },
  };
}
