import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * An absolute URL on this API: under PUBLIC_BASE_URL when one is configured (the API behind a
 * proxy or a custom domain; the local stack sets its own address), else on the domain API
 * Gateway reports, which is the API's own and never the Host header a client sent.
 */
export function absoluteUrl(event: Pick<APIGatewayProxyEventV2, 'headers' | 'requestContext'>, path: string): string {
  const base = process.env.PUBLIC_BASE_URL;
  if (base) return `${base.replace(/\/+$/, '')}${path}`;
  const proto = event.headers['x-forwarded-proto']?.split(',')[0]?.trim() ?? 'https';
  return `${proto}://${event.requestContext.domainName}${path}`;
}
