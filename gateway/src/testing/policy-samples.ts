import type { RoutePolicy } from '../policy/route-policy.js';

export const SAMPLE_ID = '64b7f0c2a1b2c3d4e5f60718';

/** A request path for a table line: each :param filled with a well-formed id. */
export function concretePath(policy: RoutePolicy): string {
  return policy.path.replace(/:[A-Za-z0-9]+/g, SAMPLE_ID);
}
