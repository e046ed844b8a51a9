// Nothing dropped silently: a function that fails on every try has its event kept where the
// template says (its EventInvokeConfig's on-failure queue), as Lambda's destination record,
// logged, and listable with `npm run dead-letters`.
//
// The fault is a real one, caused from outside, with no test code in the product: the event
// log's table is deleted (as an operator's mistake, or a missing permission, would make it
// unreachable), so record-upload fails with ResourceNotFoundException on each of Lambda's
// three tries of the S3 "Object Created" event.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, localCredentials, startStackProcess, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const horse = readFileSync(new URL('../fixtures/horse.png', import.meta.url));
const FAILURES_QUEUE = 'image-labeling-RecordUploadFailuresQueue';

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess();
});
afterAll(async () => {
  await stack?.stop();
});

async function deadLetters(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/dead-letters.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATA_DIR: stack.dataDirectory },
  });
  return stdout;
}

describe('a function that fails on every try', () => {
  it("keeps its event in the function's on-failure queue as Lambda's destination record, logged and listed", async () => {
    const { data: blob } = await stack.api.POST('/blobs', {});
    const dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: 'us-east-1', credentials: localCredentials });
    await dynamodb.send(new DeleteTableCommand({ TableName: 'image-labeling-BlobEventsTable' }));

    const uploaded = await fetch(blob!.upload_url!, { method: 'PUT', body: horse, headers: { 'content-type': 'image/png' } });
    expect(uploaded.status).toBe(200);

    const logged = await eventually(async () =>
      stack.logs().find((line) => line.message === 'asynchronous invocation failed for good; kept in its on-failure queue'),
    );
    expect(logged).toMatchObject({ queue: FAILURES_QUEUE, condition: 'RetriesExhausted', detail_type: 'Object Created' });

    // Listed among the queues for failures, with what sends there...
    const summary = await deadLetters();
    expect(summary).toMatch(new RegExp(`^\\s+1  ${FAILURES_QUEUE}  <- EventInvokeConfig OnFailure of RecordUploadFunction$`, 'm'));
    expect(summary).toMatch(/^\s+0 {2}image-labeling-UndeliveredEventsQueue {2}<- DeadLetterConfig of rule /m);
    // ...and the message itself: Lambda's invocation record, the S3 event in it for a redrive.
    const [message] = JSON.parse(await deadLetters('RecordUploadFailuresQueue')) as { body: Record<string, unknown> }[];
    expect(message!.body).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: expect.stringMatching(/:function:image-labeling-RecordUploadFunction:\$LATEST$/),
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: {
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { object: { key: `uploads/${blob!.blob_id}` } },
      },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: 'ResourceNotFoundException' },
    });
  }, 60_000);
});
