// Environment that keeps wrangler and Astro offline and non-interactive (see README).
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  ASTRO_TELEMETRY_DISABLED: "1",
};

export function offlineEnv(extra = {}) {
  return { ...process.env, ...OFFLINE_ENV, ...extra };
}
