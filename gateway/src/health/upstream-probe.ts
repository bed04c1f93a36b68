import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Upstream } from '../policy/route-policy.js';

export const HEALTH_PROBE_TIMEOUT_MS = 1_500;

/** Asks an upstream's own /health: up only when it answers 200 in time. */
@Injectable()
export class UpstreamProbe {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async isUp(upstream: Upstream): Promise<boolean> {
    try {
      const response = await fetch(`${this.config.upstreams[upstream]}/health`, {
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
