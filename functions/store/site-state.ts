/**
 * The site's stale marker (one row of site_state): writes that change what the public site shows add
 * `siteChanged()` to their transaction; the Cron Trigger claims one build per burst of changes.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { nowMs, siteState } from "../db/schema";
import type { Db } from "../env";

const ROW_ID = 1;

export type SiteState = typeof siteState.$inferSelect;

/** The statement that marks the site stale: the newest change is now; the first pending one is kept. */
export function siteChanged(db: Db) {
  return db
    .insert(siteState)
    .values({ id: ROW_ID, changedAt: nowMs, pendingSince: nowMs })
    .onConflictDoUpdate({
      target: siteState.id,
      set: {
        changedAt: sql`max(${nowMs}, ${siteState.changedAt})`,
        pendingSince: sql`coalesce(${siteState.pendingSince}, ${nowMs})`,
      },
    });
}

export async function getSiteState(db: Db): Promise<SiteState | undefined> {
  return db.select().from(siteState).where(eq(siteState.id, ROW_ID)).get();
}

/** When a burst of changes is over, and how long a build may take before another may start. */
export interface BuildPolicy {
  /** A build starts once no change came for this long ... */
  quietMs: number;
  /** ... or once the first pending change is this old (a steady stream of writes still gets builds). */
  maxWaitMs: number;
  /** A build that has not been deployed (no other Worker version has run) after this long is taken as failed. */
  leaseMs: number;
}

/**
 * Claims a site build when there are changes no build covers, the burst is over and no build is in
 * flight (the last hook call's build is in flight until a Worker version other than the one that
 * called it runs, i.e. its deploy went live, or the lease ends). One conditional UPDATE, so two
 * overlapping cron runs never both claim. Returns the claim (to release it if the hook call fails).
 */
export async function claimSiteBuild(db: Db, now: number, version: string, policy: BuildPolicy): Promise<SiteState | undefined> {
  const state = await getSiteState(db);
  if (!state || state.pendingSince === null) return undefined;
  const burstOver = now - state.changedAt >= policy.quietMs || now - state.pendingSince >= policy.maxWaitMs;
  const inFlight = state.buildStartedAt !== null && state.buildVersion === version && now - state.buildStartedAt < policy.leaseMs;
  if (!burstOver || inFlight) return undefined;
  const claimed = await db
    .update(siteState)
    .set({ pendingSince: null, buildCovers: state.changedAt, buildStartedAt: now, buildVersion: version })
    .where(
      and(
        eq(siteState.id, ROW_ID),
        eq(siteState.changedAt, state.changedAt),
        state.buildStartedAt === null ? isNull(siteState.buildStartedAt) : eq(siteState.buildStartedAt, state.buildStartedAt),
      ),
    )
    .returning()
    .get();
  return claimed ? state : undefined;
}

/** Gives a claim back (the hook call failed): the changes are pending again, the next cron run retries. */
export async function releaseSiteBuild(db: Db, previous: SiteState, claimedAt: number): Promise<void> {
  await db
    .update(siteState)
    .set({
      pendingSince: sql`coalesce(${siteState.pendingSince}, ${previous.pendingSince})`,
      buildCovers: previous.buildCovers,
      buildStartedAt: previous.buildStartedAt,
      buildVersion: previous.buildVersion,
    })
    .where(and(eq(siteState.id, ROW_ID), eq(siteState.buildStartedAt, claimedAt)));
}
