export type ThrottleDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Sliding-window rule for one client. `recentDesc` are the attempts inside the window, newest first,
 * INCLUDING the one being decided (it was recorded before counting, so parallel requests cannot all
 * slip under the limit). At most `limit + 1` entries are needed.
 *
 * Blocked when more than `limit` attempts fall inside the window. The client may try again once the
 * `limit`-th newest attempt has left the window, since then a new attempt is again the `limit`-th.
 */
export function decideThrottle(recentDesc: readonly Date[], now: Date, limit: number, windowMs: number): ThrottleDecision {
  const windowStart = now.getTime() - windowMs;
  const inWindow = recentDesc.filter((at) => at.getTime() > windowStart);
  if (inWindow.length <= limit) return { allowed: true, remaining: limit - inWindow.length };
  const freedAt = inWindow[limit - 1]!.getTime() + windowMs;
  // A parallel attempt recorded just after `now` leaves the window just after a full window from now: told the
  // window itself (600 for a 600 s window), not a second more than the window a client was told about.
  const wait = Math.min(Math.ceil((freedAt - now.getTime()) / 1000), Math.ceil(windowMs / 1000));
  return { allowed: false, retryAfterSeconds: Math.max(1, wait) };
}
