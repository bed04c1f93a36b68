import { Inject, Injectable, Optional } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Upstream } from '../policy/route-policy.js';
import { type HostLookup, systemLookup } from '@reward/server-kit/host-lookup';
import { replicaOrigins } from '../proxy/replica-pool.js';

/** The resolver the probe expands upstream host names with (tests give their own). */
export const UPSTREAM_LOOKUP = Symbol('UPSTREAM_LOOKUP');

export const HEALTH_PROBE_TIMEOUT_MS = 1_500;

/** Asks an upstream's own /health: up only when it answers 200 in time. */
@Injectable()
export class UpstreamProbe {
  /**
   * The probe of each replica under way: /health requests arriving meanwhile share it, so a crowd of them
   * (5,000 pipelined on one connection, no token needed) costs each replica one check, not one each.
   */
  private readonly inFlight = new Map<string, Promise<boolean>>();

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
      this.config.upstreams[upstream].map(async (origin) =>
        expand ? replicaOrigins(origin, this.lookup).catch(() => [origin]) : [origin],
      ),
    );
    const states = await Promise.all(origins.flat().map((origin) => this.isReplicaUp(origin)));
    return states.includes(true);
  }

  private isReplicaUp(origin: string): Promise<boolean> {
    const shared = this.inFlight.get(origin);
    if (shared) return shared;
    const probe = this.askReplica(origin).finally(() => this.inFlight.delete(origin));
    this.inFlight.set(origin, probe);
    return probe;
  }

  private async askReplica(origin: string): Promise<boolean> {
    try {
      const response = await fetch(`${origin}/health`, {
        signal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS),
        redirect: 'manual',
      });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }
}
