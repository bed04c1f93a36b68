import { describe, expect, it } from 'vitest';
import { TrustedProxies, isAddressOrCidr, isHostName, isProxyAddressEntry } from './trusted-proxies.js';

describe('trusted proxy entries', () => {
  it.each(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8', '0.0.0.0/0'])('takes %s as an address or CIDR', (value) => {
    expect(isAddressOrCidr(value)).toBe(true);
  });
  it.each(['gateway', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0/8', '1.2.3.4/x'])('refuses %s as one', (value) => {
    expect(isAddressOrCidr(value)).toBe(false);
  });
  it('knows proxy-addr range names, and host names apart from addresses', () => {
    expect(['loopback', 'uniquelocal', 'linklocal', '10.0.0.1'].every(isProxyAddressEntry)).toBe(true);
    expect(isProxyAddressEntry('gateway')).toBe(false);
    expect(['gateway', 'reward-platform-gateway-1', 'gw.internal.example'].every(isHostName)).toBe(true);
    expect(['10.0.0.0/33', '1.2.3.4', 'a b', '-gateway', 'gateway-', 'x'.repeat(64), 'gw..x', ''].some(isHostName)).toBe(false);
  });
});

describe('TrustedProxies', () => {
  function resolver(entries: string[], answers: Record<string, string[] | string>) {
    const clock = { now: 1_000_000 };
    const lookedUp: string[] = [];
    const told: Array<[string, readonly string[], unknown?]> = [];
    const proxies = new TrustedProxies(entries, {
      now: () => clock.now,
      lookup: async (name) => {
        lookedUp.push(name);
        const answer = answers[name];
        if (typeof answer === 'string' || answer === undefined) {
          throw Object.assign(new Error(`getaddrinfo ${answer ?? 'ENOTFOUND'} ${name}`), { code: answer ?? 'ENOTFOUND' });
        }
        return answer;
      },
      onResolved: (name, addresses, error) =>
        told.push(error ? [name, addresses, (error as { code?: unknown }).code] : [name, addresses]),
    });
    return { proxies, clock, lookedUp, told, answers };
  }

  it('trusts addresses, blocks and range names as given, and nobody else', async () => {
    const { proxies, lookedUp } = resolver(['10.1.0.0/16', '192.168.1.7', 'loopback'], {});
    await proxies.start();
    expect(proxies.hasNames).toBe(false);
    expect(['10.1.2.3', '192.168.1.7', '127.0.0.5', '::1', '::ffff:10.1.9.9'].every((a) => proxies.trusts(a))).toBe(true);
    expect(['10.2.0.1', '192.168.1.8', '8.8.8.8', '::2', 'not-an-ip'].some((a) => proxies.trusts(a))).toBe(false);
    expect(lookedUp).toEqual([]);
  });

  it('trusts every address a name resolves to, follows the name, keeps its last addresses while the resolver fails, and drops them when the name is gone', async () => {
    const { proxies, clock, told, answers } = resolver(['gateway', '10.9.9.9'], { gateway: ['172.18.0.4', '172.18.0.5'] });
    await proxies.start();
    proxies.stop();
    expect(proxies.hasNames).toBe(true);
    expect(proxies.trusts('172.18.0.4')).toBe(true);
    expect(proxies.trusts('::ffff:172.18.0.5')).toBe(true);
    expect(proxies.trusts('10.9.9.9')).toBe(true);
    expect(proxies.trusts('172.18.0.6')).toBe(false);

    // The gateway's container is replaced: a new address, and the old one is no longer trusted.
    answers.gateway = ['172.18.0.9'];
    clock.now += 1_000;
    await proxies.resolve();
    expect(proxies.trusts('172.18.0.9')).toBe(true);
    expect(proxies.trusts('172.18.0.4')).toBe(false);

    // The resolver fails: the last addresses stay trusted, and the failure is told once.
    answers.gateway = 'EAI_AGAIN';
    await proxies.resolve();
    await proxies.resolve();
    expect(proxies.trusts('172.18.0.9')).toBe(true);
    // The name no longer exists (the gateway's container is gone): its address is trusted no longer.
    answers.gateway = 'ENOTFOUND';
    await proxies.resolve();
    expect(proxies.trusts('172.18.0.9')).toBe(false);
    expect(told).toEqual([
      ['gateway', ['172.18.0.4', '172.18.0.5']],
      ['gateway', ['172.18.0.9']],
      ['gateway', ['172.18.0.9'], 'EAI_AGAIN'],
    ]);
  });

  it('trusts nobody for a name that does not resolve yet, and resolves again (at most once a second) when an untrusted address asks', async () => {
    const { proxies, clock, lookedUp, answers } = resolver(['gateway'], {});
    await proxies.start();
    proxies.stop();
    expect(lookedUp).toEqual(['gateway']);

    // The gateway starts after this server: its first request is judged before the name resolves, and
    // makes it resolve; the next one is trusted.
    answers.gateway = ['172.18.0.4'];
    expect(proxies.trusts('172.18.0.4')).toBe(false);
    expect(proxies.trusts('172.18.0.4')).toBe(false);
    expect(lookedUp).toEqual(['gateway']);
    clock.now += 1_000;
    expect(proxies.trusts('172.18.0.4')).toBe(false);
    await proxies.resolve();
    expect(lookedUp).toEqual(['gateway', 'gateway']);
    expect(proxies.trusts('172.18.0.4')).toBe(true);
  });
});
