// GET /: the web page (web/src, built into one HTML document by web/build.mjs at install time).
// Public on purpose: the page itself holds no data; the API calls it makes carry the user's key.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { pageContentSecurityPolicy, pageHtml } from '../web/dist/page.ts';

export async function handler(): Promise<APIGatewayProxyResultV2> {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageContentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // Small, and changes with every deploy: always revalidate.
      'cache-control': 'no-cache',
    },
    body: pageHtml,
  };
}
