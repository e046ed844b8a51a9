// Webhooks to the client's callback_url, signed the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature: HMAC-SHA256), so receivers can verify them with
// any Standard Webhooks library and drop duplicates by webhook-id.
import { lookup } from 'node:dns/promises';
import { Webhook } from 'standardwebhooks';
import { unsafeCallbackReason } from '../blob/callback-url.ts';

/** The receiver refused for good (a 4xx other than 408/429, an unsafe address): retrying will not help. */
export class CallbackRejectedError extends Error {
  override readonly name = 'CallbackRejectedError';
}

/** A failure worth retrying later (5xx, 408, 429, timeouts, network errors). */
export class CallbackRetryableError extends Error {
  override readonly name = 'CallbackRetryableError';
}

export interface Callback {
  url: string;
  /** Stable across retries of the same notification, for the receiver's deduplication. */
  id: string;
  payload: unknown;
}

/** Checks where the host name points now, not only what the URL says (DNS can point anywhere). */
async function assertSafeDestination(url: string): Promise<void> {
  const literal = unsafeCallbackReason(url);
  if (literal) throw new CallbackRejectedError(`callback_url ${literal}`);
  const { hostname } = new URL(url);
  const addresses = await lookup(hostname.replace(/^\[|\]$/g, ''), { all: true }).catch((error: unknown) => {
    throw new CallbackRetryableError(`cannot resolve ${hostname}: ${String(error)}`);
  });
  for (const { address } of addresses) {
    const unsafe = unsafeCallbackReason(`http://${address.includes(':') ? `[${address}]` : address}/`);
    if (unsafe) throw new CallbackRejectedError(`callback_url ${hostname} resolves to an address that ${unsafe.replace(/^points at /, 'is ')}`);
  }
}

export async function sendCallback(callback: Callback, signingSecret: string, timeoutMs = 10_000): Promise<number> {
  await assertSafeDestination(callback.url);
  const body = JSON.stringify(callback.payload);
  const now = new Date();
  const signature = new Webhook(signingSecret).sign(callback.id, now, body);
  let response: Response;
  try {
    response = await fetch(callback.url, {
      method: 'POST',
      body,
      redirect: 'manual', // a redirect could lead anywhere, including inside the network
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'image-labeling-webhooks/1',
        'webhook-id': callback.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
    });
  } catch (error) {
    throw new CallbackRetryableError(`POST ${callback.url} failed: ${String(error)}`);
  }
  await response.body?.cancel();
  if (response.ok) return response.status;
  if (response.status >= 500 || response.status === 408 || response.status === 429) {
    throw new CallbackRetryableError(`POST ${callback.url} answered ${response.status}`);
  }
  throw new CallbackRejectedError(`POST ${callback.url} answered ${response.status}`);
}
