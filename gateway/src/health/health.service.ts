import { Injectable } from '@nestjs/common';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import type { Upstream } from '../policy/route-policy.js';
import { UpstreamProbe } from './upstream-probe.js';

export type ServiceState = 'up' | 'down';

export interface HealthReport {
  status: 'ok';
  services: Record<Upstream, ServiceState>;
}

const UPSTREAMS: readonly Upstream[] = ['auth', 'event'];

@Injectable()
export class HealthService {
  constructor(private readonly probe: UpstreamProbe) {}

  /**
   * Ready when both servers are (probed in parallel); otherwise 503 naming the ones that are not. Without
   * Retry-After, unlike the gateway's other 503s: this one reports a state to a probe (a container
   * healthcheck, a load balancer) that asks again on its own schedule, not a request to send again.
   */
  async check(): Promise<HealthReport> {
    const states = await Promise.all(UPSTREAMS.map(async (upstream) => ((await this.probe.isUp(upstream)) ? 'up' : 'down')));
    const services = Object.fromEntries(UPSTREAMS.map((upstream, index) => [upstream, states[index]])) as Record<
      Upstream,
      ServiceState
    >;
    const down = UPSTREAMS.filter((upstream) => services[upstream] === 'down');
    if (down.length > 0) {
      const names = down.map((upstream) => `${upstream} server`).join(' and ');
      throw new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, `${names} ${down.length > 1 ? 'are' : 'is'} not ready`, {
        services,
      });
    }
    return { status: 'ok', services };
  }
}
