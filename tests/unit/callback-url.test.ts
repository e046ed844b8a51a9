import { describe, expect, it } from 'vitest';
import {
  addressRefusal,
  callbackUrlRefusal,
  emptyAllowList,
  parseAllowList,
  type RefusalReason,
} from '../../shared/callbacks/address-policy.ts';

const localDefault = parseAllowList('127.0.0.0/8,::1');

describe('callback URL policy, by default (AWS: nothing allowed beyond public addresses)', () => {
  it.each([
    'https://example.com/hooks/labels',
    'https://hooks.example.com:8443/a?b=c',
    'http://93.184.215.14/hook',
    'http://[2606:4700:4700::1111]/hook',
    'http://[64:ff9b::5db8:d70e]/hook', // NAT64 of 93.184.215.14: how IPv6-only networks reach it
    'http://[2002:5db8:d70e::1]/hook', // 6to4 of 93.184.215.14
    'http://[::ffff:93.184.215.14]/hook',
    'http://localhost.example.com/hook', // a name: its addresses are checked on delivery
  ])('accepts %s', (url) => {
    expect(callbackUrlRefusal(url, emptyAllowList)).toBeNull();
  });

  it.each<[string, RefusalReason, string]>([
    // the metadata service, however it is spelled
    ['http://169.254.169.254/latest/meta-data/', 'metadata', '169.254.169.254'],
    ['http://2852039166/', 'metadata', '169.254.169.254'], // one decimal number
    ['http://0xA9FEA9FE/', 'metadata', '169.254.169.254'], // hex
    ['http://0xa9.0xfe.0xa9.0xfe/', 'metadata', '169.254.169.254'], // hex per part
    ['http://0251.0376.0251.0376/', 'metadata', '169.254.169.254'], // octal
    ['http://169.254.43518/', 'metadata', '169.254.169.254'], // short form a.b.c
    ['http://169.16689662/', 'metadata', '169.254.169.254'], // short form a.b
    ['http://%31%36%39.254.169.254/', 'metadata', '169.254.169.254'], // percent-encoded
    ['http://169.254.169.254./', 'metadata', '169.254.169.254'], // trailing dot
    ['http://[::ffff:169.254.169.254]/', 'metadata', '169.254.169.254'], // IPv4-mapped
    ['http://[::ffff:a9fe:a9fe]/', 'metadata', '169.254.169.254'],
    ['http://[::a9fe:a9fe]/', 'metadata', '169.254.169.254'], // IPv4-compatible
    ['http://[::ffff:0:a9fe:a9fe]/', 'metadata', '169.254.169.254'], // IPv4-translated
    ['http://[64:ff9b::a9fe:a9fe]/', 'metadata', '169.254.169.254'], // NAT64
    ['http://[64:ff9b::169.254.169.254]/', 'metadata', '169.254.169.254'],
    ['http://[2002:a9fe:a9fe::1]/', 'metadata', '169.254.169.254'], // 6to4
    ['http://[fd00:ec2::254]/', 'metadata', 'fd00:ec2::254'],
    ['http://[FD00:EC2:0:0:0:0:0:254]/', 'metadata', 'fd00:ec2::254'],
    ['http://169.254.170.2/v2/credentials', 'metadata', '169.254.170.2'], // ECS task credentials
    ['http://100.100.100.200/', 'metadata', '100.100.100.200'], // Alibaba Cloud
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata', 'metadata.google.internal'],
    ['http://METADATA.GOOGLE.INTERNAL./', 'metadata', 'metadata.google.internal'],
    ['http://metadata.google.internal../', 'metadata', 'metadata.google.internal'],
    ['http://Metadata.Goog/', 'metadata', 'metadata.goog'],
    ['http://metadata/', 'metadata', 'metadata'],
    ['http://instance-data/', 'metadata', 'instance-data'],
    // loopback
    ['http://127.0.0.1:8080/hook', 'loopback', '127.0.0.1'],
    ['http://127.1/', 'loopback', '127.0.0.1'],
    ['http://2130706433/', 'loopback', '127.0.0.1'],
    ['http://017700000001/', 'loopback', '127.0.0.1'],
    ['http://0x7f000001/', 'loopback', '127.0.0.1'],
    ['http://127.0.0.1../', 'loopback', '127.0.0.1'],
    ['http://１２７.０.０.１/', 'loopback', '127.0.0.1'], // full-width digits
    ['http://127.255.255.254/', 'loopback', '127.255.255.254'],
    ['http://[::1]/', 'loopback', '::1'],
    ['http://[0:0:0:0:0:0:0:1]/', 'loopback', '::1'],
    ['http://[::ffff:127.0.0.1]/', 'loopback', '127.0.0.1'],
    ['http://[::127.0.0.1]/', 'loopback', '127.0.0.1'],
    ['http://[64:ff9b::7f00:1]/', 'loopback', '127.0.0.1'],
    ['http://[2002:7f00:1::]/', 'loopback', '127.0.0.1'],
    // private networks
    ['http://10.0.0.1/', 'private', '10.0.0.1'],
    ['http://167772161/', 'private', '10.0.0.1'],
    ['http://012.0.0.1/', 'private', '10.0.0.1'],
    ['http://172.16.0.1/', 'private', '172.16.0.1'],
    ['http://172.31.255.255/', 'private', '172.31.255.255'],
    ['http://192.168.1.1/', 'private', '192.168.1.1'],
    ['http://0xc0.0xa8.1.1/', 'private', '192.168.1.1'],
    ['http://[::ffff:10.0.0.1]/', 'private', '10.0.0.1'],
    ['http://[64:ff9b::a00:1]/', 'private', '10.0.0.1'],
    ['http://[2002:c0a8:101::1]/', 'private', '192.168.1.1'],
    ['http://100.64.0.1/', 'carrier-grade-nat', '100.64.0.1'],
    ['http://100.127.255.254/', 'carrier-grade-nat', '100.127.255.254'],
    ['http://[fc00::1]/', 'unique-local', 'fc00::1'],
    ['http://[fd12:3456:789a::1]/', 'unique-local', 'fd12:3456:789a::1'],
    ['http://[fec0::1]/', 'private', 'fec0::1'], // site-local, deprecated
    ['http://169.254.0.1/', 'link-local', '169.254.0.1'],
    ['http://[fe80::1]/', 'link-local', 'fe80::1'],
    ['http://[febf::1]/', 'link-local', 'febf::1'],
    // multicast, unspecified, broadcast, reserved
    ['http://224.0.0.1/', 'multicast', '224.0.0.1'],
    ['http://239.255.255.250/', 'multicast', '239.255.255.250'],
    ['http://[ff02::1]/', 'multicast', 'ff02::1'],
    ['http://0.0.0.0/', 'unspecified', '0.0.0.0'],
    ['http://0/', 'unspecified', '0.0.0.0'],
    ['http://0.1.2.3/', 'unspecified', '0.1.2.3'],
    ['http://[::]/', 'unspecified', '::'],
    ['http://[::ffff:0.0.0.0]/', 'unspecified', '0.0.0.0'],
    ['http://255.255.255.255/', 'broadcast', '255.255.255.255'],
    ['http://240.0.0.1/', 'reserved', '240.0.0.1'],
    ['http://192.0.2.1/', 'reserved', '192.0.2.1'],
    ['http://198.18.0.1/', 'reserved', '198.18.0.1'],
    ['http://[2001:db8::1]/', 'reserved', '2001:db8::1'], // documentation
    ['http://[64:ff9b:1::a9fe:a9fe]/', 'reserved', '64:ff9b:1::a9fe:a9fe'], // local-use NAT64
    ['http://[::8.8.8.8]/', 'reserved', '::808:808'], // IPv4-compatible: deprecated, not routed
    ['http://[100::1]/', 'reserved', '100::1'], // discard
    ['http://[4000::1]/', 'reserved', '4000::1'], // outside global unicast
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'tunnel', '2001:0:4136:e378:8000:63bf:3fff:fdd2'], // Teredo
  ])('refuses %s (%s)', (url, reason, shown) => {
    const refusal = callbackUrlRefusal(url, emptyAllowList);
    expect(refusal).toMatchObject({ reason });
    expect(refusal!.detail).toMatch(/^points at /);
    expect(refusal!.detail).toContain(shown);
  });

  it.each<[string, RefusalReason, string]>([
    ['ftp://example.com/', 'scheme', 'http or https'],
    ['https://user:secret@example.com/', 'credentials', 'credentials'],
    ['not a url', 'invalid-url', 'absolute URL'],
  ])('refuses %s (%s)', (url, reason, detail) => {
    expect(callbackUrlRefusal(url, emptyAllowList)).toMatchObject({ reason, detail: expect.stringContaining(detail) });
  });
});

describe("the operator's allow-list", () => {
  it('locally (127.0.0.0/8 and ::1) opens loopback in every spelling and nothing else', () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://127.1/', 'http://0x7f000001/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/']) {
      expect(callbackUrlRefusal(url, localDefault), url).toBeNull();
    }
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[fd00::1]/', 'http://[::2]/', 'http://[64:ff9b::7f00:1]/']) {
      expect(callbackUrlRefusal(url, localDefault), url).not.toBeNull();
    }
  });

  it('opens a range', () => {
    const allow = parseAllowList(' 10.20.0.0/16 , fd12::/16');
    expect(callbackUrlRefusal('http://10.20.3.4/', allow)).toBeNull();
    expect(callbackUrlRefusal('http://[fd12::7]/', allow)).toBeNull();
    expect(callbackUrlRefusal('http://10.21.0.1/', allow)).toMatchObject({ reason: 'private' });
    expect(callbackUrlRefusal('http://[fd13::7]/', allow)).toMatchObject({ reason: 'unique-local' });
  });

  it('opens a host name whatever it resolves to, in any case and with a trailing dot', () => {
    const allow = parseAllowList('Hooks.Internal.Example.com.');
    expect(addressRefusal('10.1.2.3', allow, true)).toBeNull();
    expect(addressRefusal('10.1.2.3', allow, false)).toMatchObject({ reason: 'private' });
  });

  it('never opens a metadata address or name', () => {
    const allow = parseAllowList('0.0.0.0/0,::/0,metadata.google.internal');
    expect(callbackUrlRefusal('http://169.254.169.254/', allow)).toMatchObject({ reason: 'metadata' });
    expect(callbackUrlRefusal('http://[fd00:ec2::254]/', allow)).toMatchObject({ reason: 'metadata' });
    expect(callbackUrlRefusal('http://[::a9fe:a9fe]/', allow)).toMatchObject({ reason: 'metadata' });
    expect(callbackUrlRefusal('http://metadata.google.internal/', allow)).toMatchObject({ reason: 'metadata' });
    expect(addressRefusal('169.254.169.254', allow, true)).toMatchObject({ reason: 'metadata' });
    expect(callbackUrlRefusal('http://10.0.0.1/', allow)).toBeNull();
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/8/8', '10.0.0.0/x', 'http://example.com', 'a b', '10.0.0.0/'])('rejects the entry %s', (entry) => {
    expect(() => parseAllowList(entry)).toThrow(entry);
  });

  it('is empty for an empty value', () => {
    expect(parseAllowList(' , ')).toEqual({ hosts: new Set(), ranges: [] });
  });
});
