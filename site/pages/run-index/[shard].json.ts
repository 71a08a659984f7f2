/**
 * /run-index/<c>.json: MLflow run uuid -> site page, for the uuids starting with <c> (16 files). /run-link.js reads one to resolve the links the MLflow client prints
 * (`<tracker>/#/experiments/<id>/runs/<uuid>`), whose fragment never reaches the server.
 */
import type { APIRoute, GetStaticPaths } from "astro";
import { getSite, runPagesByUuid, UUID_SHARDS } from "../../lib/data";

export const getStaticPaths: GetStaticPaths = () => UUID_SHARDS.map((shard) => ({ params: { shard } }));

export const GET: APIRoute = async ({ params }) => {
  const pages = runPagesByUuid(await getSite()).get(params.shard as string) ?? {};
  return new Response(JSON.stringify(pages), { headers: { "Content-Type": "application/json" } });
};
