// `npm run queues [-- <queue name>]`: what waits in the running local stack's SQS queues (found
// through DATA_DIR/stack.json, which `npm start` writes): every queue with its message count,
// or one queue's messages (body and attributes, e.g. a dead letter's ERROR_CODE), oldest
// first. It only looks: nothing is received or removed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const file = join(process.env.DATA_DIR ?? '.local-data', 'stack.json');
if (!existsSync(file)) {
  console.error(`start the local stack first (${file} not found)`);
  process.exit(1);
}
const { endpoints } = JSON.parse(readFileSync(file, 'utf8')) as { endpoints: { sqs?: string } };
if (!endpoints.sqs) {
  console.error(`${file} is from a stack without the queue view; restart it`);
  process.exit(1);
}
const name = process.argv[2];
const response = await fetch(`${endpoints.sqs}/_local/queues${name ? `/${encodeURIComponent(name)}` : ''}`).catch((error: unknown) => {
  console.error(`the local stack is not running (${String(error)})`);
  process.exit(1);
});
const body: unknown = await response.json();
console.log(JSON.stringify(body, null, 2));
if (!response.ok) process.exit(1);
