/** experiments/*: create, get, get-by-name, search (POST and GET), update, delete, restore, set-experiment-tag. */
import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../env";
import { publicRead, publicSearch, write } from "../http/access";
import { jsonBody, queryParams } from "../http/validate";
import { EXPERIMENT_SEARCH } from "../search/filter";
import { decodePageToken, nextPageToken } from "../search/page-token";
import { createExperiment, getExperiment, getExperimentByName, renameExperiment, searchExperiments, setExperimentLifecycle, setExperimentTag } from "../store/experiments";
import { id, keyValue, searchFields, viewType } from "./fields";
import { parseSearchRequest } from "./search-request";
import { experimentJson, repeated } from "./wire";

const experimentName = z.string().check(z.minLength(1), z.maxLength(500));
const experimentRef = z.object({ experiment_id: id });
const searchRequest = z.object({ ...searchFields, view_type: viewType });

export const experimentsApi = new Hono<AppEnv>()
  .post("/create", write(), jsonBody(z.object({ name: experimentName, artifact_location: z.optional(z.string()), tags: z.optional(z.array(keyValue)) })), async (c) => {
    const body = c.req.valid("json");
    const experimentId = await createExperiment(c.get("db"), body.name, body.tags ?? []);
    return c.json({ experiment_id: String(experimentId) });
  })
  .get("/get", publicRead(), queryParams(z.object({ experiment_id: z.string() })), async (c) => {
    const experiment = await getExperiment(c.get("db"), c.req.valid("query").experiment_id);
    return c.json({ experiment: experimentJson(experiment) });
  })
  .get("/get-by-name", publicRead(), queryParams(z.object({ experiment_name: z.string() })), async (c) => {
    const experiment = await getExperimentByName(c.get("db"), c.req.valid("query").experiment_name);
    return c.json({ experiment: experimentJson(experiment) });
  })
  .get("/search", publicRead(), queryParams(searchRequest), async (c) => c.json(await search(c.get("db"), c.req.valid("query"))))
  .post("/search", publicSearch(), jsonBody(searchRequest), async (c) => c.json(await search(c.get("db"), c.req.valid("json"))))
  .post("/update", write(), jsonBody(z.extend(experimentRef, { new_name: experimentName })), async (c) => {
    const body = c.req.valid("json");
    await renameExperiment(c.get("db"), body.experiment_id, body.new_name);
    return c.json({});
  })
  .post("/delete", write(), jsonBody(experimentRef), async (c) => {
    await setExperimentLifecycle(c.get("db"), c.req.valid("json").experiment_id, "deleted");
    return c.json({});
  })
  .post("/restore", write(), jsonBody(experimentRef), async (c) => {
    await setExperimentLifecycle(c.get("db"), c.req.valid("json").experiment_id, "active");
    return c.json({});
  })
  .post("/set-experiment-tag", write(), jsonBody(z.extend(experimentRef, keyValue.shape)), async (c) => {
    const body = c.req.valid("json");
    await setExperimentTag(c.get("db"), body.experiment_id, { key: body.key, value: body.value });
    return c.json({});
  });

async function search(db: AppEnv["Variables"]["db"], request: z.output<typeof searchRequest>) {
  const { page: offset, ...query } = parseSearchRequest(request, EXPERIMENT_SEARCH, decodePageToken);
  const experiments = await searchExperiments(db, { ...query, offset, viewType: request.view_type });
  const token = nextPageToken(offset, experiments.length, query.maxResults);
  return { ...repeated("experiments", experiments.map(experimentJson)), ...(token && { next_page_token: token }) };
}
