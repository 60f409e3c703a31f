/**
 * When the next run of a repeating job is due. Runs sit on a fixed grid anchored at the first start (start,
 * start + every, ...), so they do not drift by however long each run takes; a run that overran its slot is followed
 * by the next slot still ahead, never by a burst of catch-up runs. Pure: time is a parameter.
 */
export function nextRunAt(anchor: number, everyMs: number, now: number): number {
  if (everyMs <= 0) throw new Error('interval must be positive');
  if (now < anchor) return anchor;
  const slots = Math.floor((now - anchor) / everyMs) + 1;
  return anchor + slots * everyMs;
}

/** Runs 1, 1 + N, 1 + 2N, ... are verified (the first one always: a new setup should be proven at once); 0 = never. */
export function shouldVerify(run: number, verifyEvery: number): boolean {
  if (verifyEvery <= 0) return false;
  return (run - 1) % verifyEvery === 0;
}
