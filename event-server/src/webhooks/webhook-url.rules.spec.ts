import { describe, expect, it } from 'vitest';
import { addressProblem, checkWebhookUrl, parseWebhookUrl } from './webhook-url.rules.js';
import { rotate, signingSecrets } from './webhook-secret.js';

describe('addressProblem', () => {
  it('refuses metadata addresses always, private ranges unless allowed, and allows public ones', () => {
    for (const address of [
      '169.254.169.254',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '169.254.170.2', // AWS ECS task credentials
      '169.254.0.23', // Tencent Cloud
      '169.254.10.1', // any IPv4 link-local address: where clouds put theirs
      '100.100.100.200', // Alibaba
      // IPv6 forms that carry 169.254.169.254: NAT64 (well-known and local-use), compatible, translated,
      // 6to4, Teredo, ISATAP, link-local.
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::169.254.169.254',
      '64:ff9b:1::a9fe:a9fe',
      '::a9fe:a9fe',
      '::169.254.169.254',
      '::ffff:0:a9fe:a9fe',
      '2002:a9fe:a9fe::1',
      '2001:0:a9fe:a9fe::1',
      '2001:0:4136:e378:8000:63bf:5601:5601',
      '2606:4700::5efe:a9fe:a9fe',
      'fe80::a9fe:a9fe',
      'fe80::a9fe:a9fe%eth0',
      '64:ff9b::a9fe:aa02',
      '64:ff9b::6464:64c8',
    ]) {
      expect(addressProblem(address, true), address).toMatch(/metadata/);
      expect(addressProblem(address, false), address).toMatch(/metadata/);
    }
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fc00::1',
      'fec0::1', // site-local (deprecated, still routed inside some networks)
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      '100.64.0.1',
      // IPv6 addresses that carry an IPv4 one: compatible, translated, NAT64, 6to4, Teredo.
      '::127.0.0.1',
      '::',
      '::ffff:0:127.0.0.1',
      '64:ff9b::7f00:1',
      '64:ff9b:1::7f00:1',
      '64:ff9b:1:a00:1::',
      '2606:4700::5efe:a00:1', // ISATAP carrying 10.0.0.1
      '2002:7f00:1::',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    ]) {
      expect(addressProblem(address, false), address).toMatch(/loopback, private or link-local/);
      expect(addressProblem(address, true), address).toBeUndefined();
    }
    for (const address of [
      '93.184.215.14',
      '172.32.0.1',
      '2606:4700::1111',
      '2001:db8::1',
      '2003::1',
      '::ffff:93.184.215.14',
      '2606:4700::a9fe:a9fe',
    ])
      expect(addressProblem(address, false), address).toBeUndefined();
  });
});

describe('parseWebhookUrl', () => {
  it('takes absolute http(s) URLs without credentials or fragment', () => {
    expect(parseWebhookUrl('https://game.example.com/hooks')).toBeInstanceOf(URL);
    expect(parseWebhookUrl('relative/path')).toMatchObject({ kind: 'invalid' });
    expect(parseWebhookUrl('file:///etc/passwd')).toMatchObject({ kind: 'invalid' });
    expect(parseWebhookUrl('https://a:b@example.com/')).toMatchObject({ kind: 'invalid' });
    expect(parseWebhookUrl('https://example.com/#x')).toMatchObject({ kind: 'invalid' });
    expect(parseWebhookUrl('http://127.0.0.1:0/hook')).toEqual({
      kind: 'invalid',
      message: 'url must name a port from 1 to 65535',
    });
    expect(parseWebhookUrl('https://example.com:00/hook')).toMatchObject({ kind: 'invalid' });
    expect(parseWebhookUrl('https://example.com:1/hook')).toBeInstanceOf(URL);
  });
});

describe('checkWebhookUrl', () => {
  it('refuses a URL with spaces, tabs, line breaks or control characters (the parser would drop them silently)', async () => {
    for (const raw of [
      ' https://example.com/hook',
      'https://example.com/hook ',
      '\thttps://example.com/hook\n',
      'https://example.com/a\tb',
      'https://example.com/a\r\nb',
      'https://example.com/a b',
      'https://example.com/a\u0000b',
    ]) {
      expect(await checkWebhookUrl(raw, true), JSON.stringify(raw)).toMatchObject({
        kind: 'invalid',
        message: expect.stringMatching(/control characters/),
      });
    }
    expect(await checkWebhookUrl('https://127.0.0.1:8443/hooks/a%20b?token=x', true)).toBeUndefined();
  });
});

describe('secret rotation', () => {
  it('keeps the previous secret signing for 24 hours, then only the new one', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const first = [{ value: 'whsec_old', createdAt: t0 }];
    const rotated = rotate(first, t0);
    expect(rotated).toHaveLength(2);
    expect(signingSecrets(rotated, new Date(t0.getTime() + 23 * 3600_000))).toEqual([rotated[0]!.value, 'whsec_old']);
    expect(signingSecrets(rotated, new Date(t0.getTime() + 24 * 3600_000))).toEqual([rotated[0]!.value]);
    // Rotated again within the overlap: the first secret keeps signing until its own 24 h end.
    expect(rotate(rotated, new Date(t0.getTime() + 3600_000)).map((secret) => secret.value)).toEqual([
      expect.stringMatching(/^whsec_/),
      rotated[0]!.value,
      'whsec_old',
    ]);
  });
});
