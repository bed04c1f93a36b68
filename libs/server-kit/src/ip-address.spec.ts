import { describe, expect, it } from 'vitest';
import { ipv6Groups } from './ip-address.js';

describe('ipv6Groups', () => {
  it('expands an IPv6 address into its eight groups, however it is written', () => {
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('2001:0db8:0000:0000:0000:0000:0000:0001')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('reads a trailing dotted IPv4 part as two groups, also before a zone index', () => {
    expect(ipv6Groups('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
    expect(ipv6Groups('::ffff:10.0.0.1%eth0')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]);
  });

  it('is undefined for anything else', () => {
    for (const address of ['192.0.2.1', 'localhost', '', '2001:db8::g']) expect(ipv6Groups(address), address).toBeUndefined();
  });
});
