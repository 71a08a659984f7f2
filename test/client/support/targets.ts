/**
 * Both servers of a differential test: our Worker (a real local server with a fresh D1) and MLflow's
 * own server, on ports of this project's range (9400-9449), two per test file.
 */
import { startTestServer, type TestServer } from "../../support/server.js";
import { clientMissing, startMlflowServer, type MlflowServer, type Target } from "./mlflow.js";

export const PORT_BASE = 9400;

export interface Targets {
  kdgat: Target;
  mlflow: Target;
  server: TestServer;
  mlflowServer: MlflowServer;
  stop(): Promise<void>;
}

/** Starts both servers on PORT_BASE + 2 * slot and the port after it (slot: one per test file). */
export async function startTargets(slot: number): Promise<Targets> {
  if (clientMissing) throw new Error(clientMissing);
  const [server, mlflowServer] = await Promise.all([startTestServer({ port: PORT_BASE + 2 * slot }), startMlflowServer(PORT_BASE + 2 * slot + 1)]);
  const token = await server.mintToken("mlflow-client");
  return {
    kdgat: { name: "kdgat", url: server.url, token },
    mlflow: { name: "mlflow", url: mlflowServer.url, token: "unused" },
    server,
    mlflowServer,
    async stop() {
      await Promise.all([server.stop(), mlflowServer.stop()]);
    },
  };
}
