// Every bad request gets the right 4xx and an application/problem+json body saying what was
// wrong; never a 500 or a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackProcess, type StackProcess } from '../support/stack-process.ts';

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess();
});
afterAll(async () => {
  await stack?.stop();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { pointer?: string; parameter?: string; detail: string }[];
}

async function call(method: string, path: string, init: { body?: string | Buffer; contentType?: string } = {}) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    ...(init.body !== undefined && { body: init.body }),
    headers: init.contentType ? { 'content-type': init.contentType } : {},
  });
  const text = await response.text();
  return { response, text, problem: () => JSON.parse(text) as Problem };
}

async function expectProblem(result: Awaited<ReturnType<typeof call>>, status: number, detail: RegExp) {
  expect(result.response.status).toBe(status);
  expect(result.response.headers.get('content-type')).toBe('application/problem+json');
  const problem = result.problem();
  expect(problem).toMatchObject({ type: 'about:blank', status });
  expect(problem.title).toBeTruthy();
  expect(problem.detail).toMatch(detail);
  return problem;
}

describe('POST /blobs refuses bad bodies', () => {
  it('malformed JSON -> 400', async () => {
    await expectProblem(await call('POST', '/blobs', { body: '{"callback_url": ', contentType: 'application/json' }), 400, /not valid JSON/);
  });

  it('a JSON array -> 400', async () => {
    const problem = await expectProblem(await call('POST', '/blobs', { body: '[]', contentType: 'application/json' }), 400, /the body must be an object/);
    expect(problem.errors?.[0]).toMatchObject({ pointer: '#/' });
  });

  it('an unknown field -> 400 naming it', async () => {
    const problem = await expectProblem(
      await call('POST', '/blobs', { body: '{"callback_url":"https://example.com/","colour":"red"}', contentType: 'application/json' }),
      400,
      /colour is not a known field/,
    );
    expect(problem.errors).toContainEqual({ pointer: '#/colour', detail: 'colour is not a known field' });
  });

  it('says what each field must be, in words a client can act on', async () => {
    const body = { max_labels: '5', min_confidence: 101, content_type: 'image/gif', callback_url: 'ftp://example.com/hook' };
    const problem = await expectProblem(await call('POST', '/blobs', { body: JSON.stringify(body), contentType: 'application/json' }), 400, /max_labels must be an integer/);
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { pointer: '#/max_labels', detail: 'max_labels must be an integer' },
        { pointer: '#/min_confidence', detail: 'min_confidence must be <= 100' },
        { pointer: '#/content_type', detail: 'content_type must be one of image/jpeg, image/png' },
        // From the contract's description of the field, not its regular expression.
        { pointer: '#/callback_url', detail: 'callback_url must be an absolute http(s) URL that receives a signed POST when labeling ends' },
      ]),
    );
    expect(problem.detail).not.toMatch(/pattern|allowed values|\^/);
  });

  it.each(['not a url', '/relative/path', 'ftp://example.com/file', 'mailto:someone@example.com', 42])(
    'callback_url %s -> 400',
    async (callbackUrl) => {
      const problem = await expectProblem(
        await call('POST', '/blobs', { body: JSON.stringify({ callback_url: callbackUrl }), contentType: 'application/json' }),
        400,
        /callback_url/,
      );
      expect(problem.errors?.[0]?.pointer).toBe('#/callback_url');
    },
  );

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://169.254.1.1:8080/x'])(
    'callback_url at a metadata or link-local address %s -> 400',
    async (callbackUrl) => {
      await expectProblem(
        await call('POST', '/blobs', { body: JSON.stringify({ callback_url: callbackUrl }), contentType: 'application/json' }),
        400,
        /callback_url points at/,
      );
    },
  );

  it('a body over 1 MB -> 413', async () => {
    const body = JSON.stringify({ callback_url: `https://example.com/${'a'.repeat(1024 * 1024)}` });
    await expectProblem(await call('POST', '/blobs', { body, contentType: 'application/json' }), 413, /limit is 1048576/);
  });

  it('a body that is not JSON -> 415', async () => {
    await expectProblem(await call('POST', '/blobs', { body: 'callback_url=x', contentType: 'application/x-www-form-urlencoded' }), 415, /application\/json/);
    await expectProblem(await call('POST', '/blobs', { body: '{}', contentType: 'text/plain' }), 415, /application\/json/);
  });

  it('an empty body or {} is fine', async () => {
    expect((await call('POST', '/blobs')).response.status).toBe(201);
    expect((await call('POST', '/blobs', { body: '{}', contentType: 'application/json' })).response.status).toBe(201);
    expect((await call('POST', '/blobs', { body: '{}', contentType: 'application/json; charset=utf-8' })).response.status).toBe(201);
  });

  it('a JSON media type in any case, or a +json one, is JSON (media types are case-insensitive)', async () => {
    for (const contentType of ['Application/JSON', 'application/vnd.example+json', 'APPLICATION/JSON ; charset=UTF-8']) {
      expect((await call('POST', '/blobs', { body: '{"max_labels": 3}', contentType })).response.status, contentType).toBe(201);
    }
    await expectProblem(await call('POST', '/blobs', { body: '{"max_labels": 3', contentType: 'Application/JSON' }), 400, /not valid JSON: .+/);
  });
});

describe('GET /blobs/{blob_id}', () => {
  it.each(['not-a-ulid', '01JD8Y7N3Q4W5E6R7T8Y9V0K1', '01JD8Y7N3Q4W5E6R7T8Y9V0K1PX', '01JD8Y7N3Q4W5E6R7T8Y9V0KIL'])(
    'a malformed blob_id %s -> 400',
    async (blobId) => {
      const problem = await expectProblem(await call('GET', `/blobs/${blobId}`), 400, /blob_id/);
      expect(problem.errors).toEqual([{ parameter: 'blob_id', detail: 'blob_id must be a ULID (26 characters of Crockford base32)' }]);
    },
  );

  it('an unknown blob_id -> 404', async () => {
    await expectProblem(await call('GET', '/blobs/01JD8Y7N3Q4W5E6R7T8Y9V0K1P'), 404, /no blob 01JD8Y7N3Q4W5E6R7T8Y9V0K1P/);
  });
});

describe('unsupported methods and paths', () => {
  it.each([
    ['DELETE', '/blobs/01JD8Y7N3Q4W5E6R7T8Y9V0K1P', 'GET'],
    ['PUT', '/blobs/01JD8Y7N3Q4W5E6R7T8Y9V0K1P', 'GET'],
    ['DELETE', '/blobs', 'GET, POST'],
    ['PATCH', '/blobs', 'GET, POST'],
    ['POST', '/blobs/01JD8Y7N3Q4W5E6R7T8Y9V0K1P/events', 'GET'],
  ])('%s %s -> 405 with Allow: %s', async (method, path, allow) => {
    const result = await call(method, path);
    await expectProblem(result, 405, new RegExp(`${method} is not supported`));
    expect(result.response.headers.get('allow')).toBe(allow);
  });

  it('an unknown path -> 404', async () => {
    await expectProblem(await call('GET', '/nothing/here'), 404, /nothing at \/nothing\/here/);
    // GET / is the web page; any other method there finds nothing.
    await expectProblem(await call('POST', '/'), 404, /nothing at \//);
  });
});

describe('the upload URL', () => {
  async function freshUploadUrl() {
    const { data } = await stack.api.POST('/blobs', {});
    return new URL(data!.upload_url!);
  }

  it('refuses a tampered signature with 403', async () => {
    const url = await freshUploadUrl();
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
    const response = await fetch(url, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('SignatureDoesNotMatch');
  });

  it('refuses the URL of one blob used for another key with 403', async () => {
    const url = await freshUploadUrl();
    url.pathname = url.pathname.replace(/[0-9A-Z]{26}$/, '01JD8Y7N3Q4W5E6R7T8Y9V0K1P');
    const response = await fetch(url, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(403);
  });

  it('refuses a longer expiry than was signed with 403', async () => {
    const url = await freshUploadUrl();
    url.searchParams.set('X-Amz-Expires', '604800');
    expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(403);
  });
});

describe('what a client sends is not echoed back as ours', () => {
  it('a Host header of its choice does not reach _links or Location', async () => {
    const { request } = await import('node:http');
    const { port } = new URL(stack.apiUrl);
    const answer = await new Promise<{ location: string | undefined; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/blobs', headers: { host: 'evil.example', 'x-forwarded-proto': 'https' } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ location: res.headers.location, body }));
      });
      req.on('error', reject);
      req.end();
    });
    const blob = JSON.parse(answer.body) as { blob_id: string; _links: { status: string } };
    expect(answer.location).toBe(`${stack.apiUrl}/blobs/${blob.blob_id}`);
    expect(blob._links.status).toBe(answer.location);
  });

  it('GET /blobs/{blob_id}/ is 404 and says what is there instead', async () => {
    const { data } = await stack.api.POST('/blobs', {});
    await expectProblem(await call('GET', `/blobs/${data!.blob_id}/`), 404, new RegExp(`did you mean /blobs/${data!.blob_id} \\(without the trailing slash\\)`));
    await expectProblem(await call('GET', '/blobs/'), 404, /did you mean \/blobs /);
  });
});
