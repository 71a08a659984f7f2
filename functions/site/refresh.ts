/**
 * The Cron Trigger's work: when writes have marked the site stale (store/site-state.ts) and their
 * burst is over, call the Workers Builds Deploy Hook (secret SITE_DEPLOY_HOOK_URL) once, so that the
 * site is rebuilt from the API and deployed; at most one build is in flight at a time.
 */

import type { Db } from "../env";
import { type BuildPolicy, claimSiteBuild, releaseSiteBuild } from "../store/site-state";

export const SITE_BUILD_POLICY: BuildPolicy = {
  quietMs: 30_000,
  maxWaitMs: 5 * 60_000,
  // Workers Builds builds and deploys in a few minutes; a build not live after this failed.
  leaseMs: 20 * 60_000,
};

const HOOK_TIMEOUT_MS = 10_000;

export type RefreshOutcome = "no-hook" | "up-to-date" | "called" | "hook-failed";

/**
 * One cron tick at `now`: claims a build and calls the hook; a failed call gives the claim back, so
 * the next tick tries again. `version` is the running Worker version (CF_VERSION_METADATA.id).
 */
export async function refreshSite(db: Db, hookUrl: string | undefined, version: string, now: number): Promise<RefreshOutcome> {
  if (!hookUrl) return "no-hook";
  const previous = await claimSiteBuild(db, now, version, SITE_BUILD_POLICY);
  if (!previous) return "up-to-date";
  try {
    const response = await fetch(hookUrl, { method: "POST", signal: AbortSignal.timeout(HOOK_TIMEOUT_MS) });
    await response.body?.cancel();
    if (response.ok) return "called";
    console.error(`site deploy hook answered HTTP ${response.status}; retrying at the next tick`);
  } catch (error) {
    console.error(`site deploy hook failed: ${(error as Error).message}; retrying at the next tick`);
  }
  await releaseSiteBuild(db, previous, now);
  return "hook-failed";
}
