import { Inject, Injectable, Optional } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Upstream } from '../policy/route-policy.js';
import { type HostLookup, systemLookup } from '@reward/server-kit/host-lookup';
import { replicaOrigins } from '../proxy/replica-pool.js';
import { Readiness } from '@reward/server-kit/readiness';

/** The resolver the probe expands upstream host names with (tests give their own). */
export const UPSTREAM_LOOKUP = Symbol('UPSTREAM_LOOKUP');

export const HEALTH_PROBE_TIMEOUT_MS = 1_500;

/**
 * Asks an upstream's own /health: up when a replica answers 200 in time, or is only slow (no answer yet, no
 * refusal) and answered 200 to a probe sent within the last SLOW_GRACE_MS (Readiness): under a launch's load the
 * gateway's own event loop may read a replica's answer after 1.5 s, and a 503 then would have an orchestrator
 * take the gateway out (or restart it) when it is needed most. A refusal or any other answer is down at once.
 */
@Injectable()
export class UpstreamProbe {
  /**
   * Each replica's readiness: one probe of a replica at a time, so /health requests arriving meanwhile share it
   * (a crowd of them, 5,000 pipelined on one connection, no token needed, costs each replica one check).
   */
  private readonly replicas = new Map<string, Readiness>();
  /**
   * Each host-named upstream URL's resolution under way: /health requests arriving meanwhile share it. A lookup
   * per request let anonymous /health requests queue getaddrinfo calls without bound on libuv's four threads,
   * which the gateway's JWKS fetch (undici resolves the auth server's name there) and the replica pool's
   * resolution wait behind: measured here with a resolver that did not answer, 2,000 queued lookups held a
   * lookup made after them for 391 s.
   */
  private readonly resolving = new Map<string, Promise<string[]>>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Optional() @Inject(UPSTREAM_LOOKUP) private readonly lookup: HostLookup = systemLookup,
  ) {}

  /**
   * Up when at least one of the upstream's replicas is (the proxy sends requests to those in rotation). A
   * URL named by a host name is every address the name resolves to, as the proxy sees it (a Compose service
   * with a replica down: asking the name would reach whichever address the resolver gave first).
   */
  async isUp(upstream: Upstream): Promise<boolean> {
    const expand = this.config.upstreamResolveIntervalMs > 0;
    const origins = await Promise.all(
      this.config.upstreams[upstream].map(async (origin) => (expand ? this.resolve(origin) : [origin])),
    );
    const states = await Promise.all(origins.flat().map((origin) => this.readinessOf(origin).check()));
    return states.some((state) => state.ready);
  }

  /** The replicas a URL names now (replicaOrigins; the URL itself when its name does not resolve), one lookup at a time. */
  private resolve(origin: string): Promise<string[]> {
    let resolution = this.resolving.get(origin);
    if (!resolution) {
      resolution = replicaOrigins(origin, this.lookup)
        .catch(() => [origin])
        .finally(() => this.resolving.delete(origin));
      this.resolving.set(origin, resolution);
    }
    return resolution;
  }

  private readinessOf(origin: string): Readiness {
    let readiness = this.replicas.get(origin);
    if (!readiness) {
      // Replicas come and go with the name's addresses: a bound on what is remembered of ones gone.
      if (this.replicas.size >= MAX_REPLICAS_REMEMBERED) this.replicas.clear();
      readiness = new Readiness({ ping: (timeoutMs) => askReplica(origin, timeoutMs), pingTimeoutMs: HEALTH_PROBE_TIMEOUT_MS });
      this.replicas.set(origin, readiness);
    }
    return readiness;
  }
}

const MAX_REPLICAS_REMEMBERED = 1_000;

/** One /health request to a replica: resolves on 200, rejects on anything else (bounded by `timeoutMs`). */
async function askReplica(origin: string, timeoutMs: number): Promise<void> {
  const response = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`${origin}/health answered ${response.status}`);
}
