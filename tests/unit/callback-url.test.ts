import { describe, expect, it } from 'vitest';
import { unsafeCallbackReason } from '../../shared/blob/callback-url.ts';

describe('callback URL safety', () => {
  it.each([
    'https://example.com/hooks/labels',
    'http://127.0.0.1:8080/hook',
    'http://[2001:db8::1]/hook',
    'https://hooks.example.com:8443/a?b=c',
  ])('accepts %s', (url) => {
    expect(unsafeCallbackReason(url)).toBeNull();
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://169.254.0.1/', 'link-local'],
    ['http://2852039166/', 'link-local'], // 169.254.169.254 as one decimal number
    ['http://0xA9FEA9FE/', 'link-local'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata'],
    ['http://0.0.0.0/', 'unspecified'],
    ['ftp://example.com/', 'http or https'],
    ['https://user:secret@example.com/', 'credentials'],
    ['not a url', 'absolute URL'],
  ])('refuses %s (%s)', (url, reason) => {
    expect(unsafeCallbackReason(url)).toContain(reason);
  });
});
