import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Upstream } from '../policy/route-policy.js';

export const HEALTH_PROBE_TIMEOUT_MS = 1_500;

/** Asks an upstream's own /health: up only when it answers 200 in time. */
@Injectable()
export class UpstreamProbe {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** Up when at least one of the upstream's replicas is (the proxy sends requests to those in rotation). */
  async isUp(upstream: Upstream): Promise<boolean> {
    const states = await Promise.all(this.config.upstreams[upstream].map((origin) => this.isReplicaUp(origin)));
    return states.includes(true);
  }

  private async isReplicaUp(origin: string): Promise<boolean> {
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
