/**
 * Test hook for crash safety: with KDGAT_TEST_CRASH_AFTER=N the process kills itself with a real
 * SIGKILL right after the N-th step of a migration (a journal write or one filesystem change), so
 * tests can prove that resuming and rolling back recover from any point. Unset, it does nothing.
 */
const crashAfter = Number(process.env.KDGAT_TEST_CRASH_AFTER ?? 0);
let steps = 0;

export function step(): void {
  if (crashAfter > 0 && ++steps >= crashAfter) process.kill(process.pid, "SIGKILL");
}
