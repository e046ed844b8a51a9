// Who may call the API, end to end: `npm start` in each AuthMode, keys made with
// `npm run api-keys`, the template's authorizer and throttle run by the local gateway.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStackProcess, type StackProcess } from '../support/stack-process.ts';
import { startTestIssuer, type TestIssuer } from '../support/jwt-issuer.ts';
import { projectRoot } from '../support/template.ts';

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function apiKeys(stack: StackProcess, ...args: string[]) {
  const result = await run(['--import', 'tsx', 'scripts/api-keys.ts', ...args], { DATA_DIR: stack.dataDirectory });
  if (result.code !== 0) throw new Error(`api-keys ${args.join(' ')} failed: ${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

async function call(stack: StackProcess, path: string, init: RequestInit & { authorization?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.authorization !== undefined) headers.set('authorization', init.authorization);
  const response = await fetch(`${stack.apiUrl}${path}`, { ...init, headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/**
 * GET / is the one public route (its event says `Auth: {Authorizer: NONE}`): the page loads and
 * then asks for a key. Everything else, every /blobs route first, stays behind the authorizer.
 */
async function expectOnlyThePagePublic(stack: StackProcess, badCredential: string) {
  for (const authorization of [undefined, badCredential]) {
    const page = await call(stack, '/', authorization === undefined ? {} : { authorization });
    expect(page.status, `GET / with ${authorization ?? 'no credential'}`).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.body).toMatch(/^<!doctype html>/i);
  }
  const blobId = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  for (const [method, path] of [['GET', '/blobs'], ['POST', '/blobs'], ['GET', `/blobs/${blobId}`], ['GET', `/blobs/${blobId}/events`], ['POST', '/'], ['GET', '/page']]) {
    expectUnauthorized(await call(stack, path!, { method: method! }), `${method} ${path} without credentials`);
    expectUnauthorized(await call(stack, path!, { method: method!, authorization: badCredential }), `${method} ${path} with a bad credential`);
  }
}

function expectUnauthorized(answer: { status: number; headers: Headers; body: string }, what: string) {
  expect(answer.status, what).toBe(401);
  expect(answer.headers.get('content-type'), what).toBe('application/problem+json');
  expect(answer.headers.get('www-authenticate'), what).toMatch(/^Bearer\b/);
  expect(JSON.parse(answer.body), what).toMatchObject({ status: 401, title: 'Unauthorized' });
}

describe('AUTH_MODE=api-key', () => {
  let stack: StackProcess;
  let key: { api_key: string; key_id: string; owner: string };
  beforeAll(async () => {
    stack = await startStackProcess({ env: { AUTH_MODE: 'api-key', DETECTOR_WORKERS: '1' } });
    key = (await apiKeys(stack, 'create', '--owner', 'alice', '--name', 'e2e')) as typeof key;
  });
  afterAll(() => stack.stop());

  it('creates a recognisable key, shown once; list shows its owner and name but never the key or its hash', async () => {
    expect(key.api_key).toMatch(/^il_live_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ owner: 'alice', name: 'e2e', key_id: key.api_key.slice(8, 24) });
    const listed = await apiKeys(stack, 'list');
    expect(listed.keys).toEqual([expect.objectContaining({ key_id: key.key_id, owner: 'alice', name: 'e2e' })]);
    expect(JSON.stringify(listed)).not.toContain(key.api_key.slice(25));
    expect(JSON.stringify(listed)).not.toContain('hash');
  });

  it("serves a valid key, and the function knows the key's owner", async () => {
    const created = await call(stack, '/blobs', { method: 'POST', authorization: `Bearer ${key.api_key}` });
    expect(created.status).toBe(201);
    const { blob_id: blobId } = JSON.parse(created.body) as { blob_id: string };
    const read = await call(stack, `/blobs/${blobId}`, { authorization: `Bearer ${key.api_key}` });
    expect(read.status).toBe(200);
    await eventually(async () => stack.logs().find((line) => line.message === 'blob created' && line.blob_id === blobId));
    expect(stack.logs().find((line) => line.message === 'blob created' && line.blob_id === blobId)).toMatchObject({ owner: 'alice' });
  });

  it('answers no key, a made-up key and a malformed header alike: 401 problem+json with WWW-Authenticate', async () => {
    const madeUp = `il_live_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const answers = [
      await call(stack, '/blobs'),
      await call(stack, '/blobs', { authorization: `Bearer ${madeUp}` }),
      await call(stack, '/blobs', { authorization: `Bearer ${key.api_key.slice(0, -1)}x` }),
      await call(stack, '/blobs', { authorization: 'Bearer' }),
      await call(stack, '/blobs', { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` }),
      await call(stack, '/blobs', { authorization: key.api_key }),
    ];
    answers.forEach((answer, index) => expectUnauthorized(answer, `case ${index}`));
    // The same words whether or not a key exists.
    expect(new Set(answers.map((answer) => answer.body)).size).toBe(1);
  });

  it('asks for credentials before anything else: no body errors, no 404 or 405 to an anonymous client', async () => {
    expectUnauthorized(await call(stack, '/blobs', { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } }), 'bad body');
    expectUnauthorized(await call(stack, '/nothing-here'), 'unknown path');
    expectUnauthorized(await call(stack, '/blobs', { method: 'DELETE' }), 'unknown method');
  });

  it('stops taking a revoked key at once, with the same answer as an unknown one', async () => {
    const second = (await apiKeys(stack, 'create', '--owner', 'bob')) as typeof key;
    expect((await call(stack, '/blobs', { authorization: `Bearer ${second.api_key}` })).status).toBe(200);
    const revoked = await apiKeys(stack, 'revoke', second.key_id);
    expect(revoked.revoked).toMatchObject({ key_id: second.key_id, revoked_at: expect.any(String) });
    const answer = await call(stack, '/blobs', { authorization: `Bearer ${second.api_key}` });
    expectUnauthorized(answer, 'revoked');
    expect(answer.body).toBe((await call(stack, '/blobs')).body);
    // The other key still works.
    expect((await call(stack, '/blobs', { authorization: `Bearer ${key.api_key}` })).status).toBe(200);
  });

  it('serves the web page at GET / without a key; every other route still asks for one', async () => {
    await expectOnlyThePagePublic(stack, `Bearer il_live_${'0'.repeat(16)}_${'A'.repeat(43)}`);
  });

  it('says clearly when a key to revoke does not exist', async () => {
    const result = await run(['--import', 'tsx', 'scripts/api-keys.ts', 'revoke', 'ffffffffffffffff'], { DATA_DIR: stack.dataDirectory });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('there is no key ffffffffffffffff');
  });
});

describe('AUTH_MODE=jwt', () => {
  let issuer: TestIssuer;
  let stack: StackProcess;
  beforeAll(async () => {
    issuer = await startTestIssuer();
    stack = await startStackProcess({
      env: { AUTH_MODE: 'jwt', JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: 'image-labeling', DETECTOR_WORKERS: '1' },
    });
  });
  afterAll(async () => {
    await stack.stop();
    await issuer.close();
  });

  it("serves a token of the issuer for the audience; the function knows the token's sub", async () => {
    const token = await issuer.sign({ sub: 'user-1' }, { audience: 'image-labeling' });
    const created = await call(stack, '/blobs', { method: 'POST', authorization: `Bearer ${token}` });
    expect(created.status).toBe(201);
    expect((await call(stack, '/blobs', { authorization: `Bearer ${token}` })).status).toBe(200);
    const { blob_id: blobId } = JSON.parse(created.body) as { blob_id: string };
    await eventually(async () => stack.logs().find((line) => line.message === 'blob created' && line.blob_id === blobId));
    expect(stack.logs().find((line) => line.message === 'blob created' && line.blob_id === blobId)).toMatchObject({ owner: 'user-1' });
  });

  it('serves the web page at GET / without a token; every other route still asks for one', async () => {
    await expectOnlyThePagePublic(stack, `Bearer ${await issuer.sign({ sub: 'user-1' }, { audience: 'another-api' })}`);
  });

  it('refuses no token, a wrong audience, an expired token and a bad signature with 401', async () => {
    const tokens = [
      await issuer.sign({ sub: 'user-1' }, { audience: 'another-api' }),
      await issuer.sign({ sub: 'user-1' }, { audience: 'image-labeling', expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await issuer.sign({ sub: 'user-1' }, { audience: 'image-labeling', foreignKey: true }),
    ];
    expectUnauthorized(await call(stack, '/blobs'), 'no token');
    for (const [index, token] of tokens.entries()) expectUnauthorized(await call(stack, '/blobs', { authorization: `Bearer ${token}` }), `token ${index}`);
  });
});

describe('throttling, and a HOST other than 127.0.0.1', () => {
  let stack: StackProcess;
  beforeAll(async () => {
    // 127.0.0.2 is loopback too (so the stack may be open), but not the stand-ins' address.
    stack = await startStackProcess({ env: { HOST: '127.0.0.2', THROTTLING_BURST_LIMIT: '1', THROTTLING_RATE_LIMIT: '1', DETECTOR_WORKERS: '1' } });
  });
  afterAll(() => stack.stop());

  it('serves the API and the upload bucket on HOST, and keeps DynamoDB, EventBridge, Rekognition and the usage counters on 127.0.0.1', () => {
    expect(new URL(stack.apiUrl).hostname).toBe('127.0.0.2');
    expect(new URL(stack.endpoints.s3).hostname).toBe('127.0.0.2');
    for (const internal of [stack.endpoints.dynamodb, stack.endpoints.eventbridge, stack.endpoints.rekognition, stack.endpoints.usage]) {
      expect(new URL(internal).hostname).toBe('127.0.0.1');
    }
  });

  it('answers 429 problem+json with Retry-After once a route has used its burst', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(stack, '/blobs')));
    const throttled = answers.filter((answer) => answer.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    const [first] = throttled;
    expect(first!.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(first!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(first!.body)).toMatchObject({ status: 429, title: 'Too Many Requests' });
  });
});

describe('protected mode', () => {
  it('refuses to serve an open API on a non-loopback address, saying why in one line', async () => {
    const result = await run(['local/start.mjs'], { HOST: '0.0.0.0', PORT: '0', S3_PORT: '0', DATA_DIR: '/nonexistent/never-created' });
    expect(result.code).toBe(1);
    const line = result.stderr.split('\n').find((text) => text.includes('protected mode'));
    expect(line).toMatch(/refusing to serve an open API on HOST=0\.0\.0\.0.*AUTH_MODE=api-key/);
  });
});
