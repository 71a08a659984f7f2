/**
 * Access and modification times as migrate keeps and restores them: whole microseconds, because
 * that is what utimes can set (libuv truncates to the microsecond), and a microsecond count since
 * 1970 is an exact JSON number.
 */
import { type BigIntStats, lstatSync } from "node:fs";

export interface Times {
  atimeUs: number;
  mtimeUs: number;
}

export function timesOf(stat: BigIntStats): Times {
  return { atimeUs: Number(stat.atimeNs / 1000n), mtimeUs: Number(stat.mtimeNs / 1000n) };
}

export function timesAt(path: string): Times {
  return timesOf(lstatSync(path, { bigint: true }));
}

/**
 * The (atime, mtime) arguments of utimes/lutimes, in seconds. Half a microsecond is added because
 * libuv truncates `(t - floor(t)) * 1e9` and a double near 1.8e9 s is off by up to a quarter of a
 * microsecond: without it, every other time lands one microsecond early.
 */
export function utimesArgs(times: Times): [number, number] {
  return [(times.atimeUs + 0.5) / 1e6, (times.mtimeUs + 0.5) / 1e6];
}
