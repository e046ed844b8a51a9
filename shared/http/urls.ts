import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** An absolute URL on this API, as the client reached it (API Gateway sets both values). */
export function absoluteUrl(event: Pick<APIGatewayProxyEventV2, 'headers' | 'requestContext'>, path: string): string {
  const proto = event.headers['x-forwarded-proto']?.split(',')[0]?.trim() ?? 'https';
  const host = event.requestContext.domainName;
  return `${proto}://${host}${path}`;
}
