// What failed and is waiting for a redrive, in the running local stack (npm start): every
// queue that receives failures (a redrive policy's dead-letter queue, a rule's
// DeadLetterConfig, a function's on-failure destination) with its depth and what sends to it;
// `-- <queue>` prints that queue's messages (any queue) as JSON, oldest first, leaving them
// in place. `--all` lists every queue. Reads the stack's address from DATA_DIR/stack.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface QueueSummary {
  name: string;
  arn: string;
  messages: number;
  receivesFailuresOf: string[];
}

const args = process.argv.slice(2);
const file = join(process.env.DATA_DIR ?? '.local-data', 'stack.json');
if (!existsSync(file)) {
  console.error(`start the local stack first (npm start): ${file} not found`);
  process.exit(2);
}
const { endpoints } = JSON.parse(readFileSync(file, 'utf8')) as { endpoints: { sqs?: string } };
if (!endpoints.sqs) {
  console.error(`${file} has no SQS endpoint: restart the local stack with this version`);
  process.exit(2);
}

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${endpoints.sqs}${path}`).catch((error: unknown) => {
    console.error(`the local stack at ${endpoints.sqs} does not answer (${String(error)}); is npm start running?`);
    process.exit(2);
  });
  if (!response.ok) {
    console.error(`${path}: ${response.status} ${await response.text()}`);
    process.exit(1);
  }
  return (await response.json()) as T;
}

const queueName = args.find((arg) => !arg.startsWith('--'));
if (queueName) {
  const queues = await get<QueueSummary[]>('/_local/queues');
  // A queue by its name or by its logical id in template.yaml (the name's last part).
  const queue = queues.find((candidate) => candidate.name === queueName || candidate.name.endsWith(`-${queueName}`));
  if (!queue) {
    console.error(`no queue ${queueName}; there are: ${queues.map((candidate) => candidate.name).join(', ')}`);
    process.exit(1);
  }
  console.log(JSON.stringify(await get<unknown[]>(`/_local/queues/${encodeURIComponent(queue.name)}`), null, 2));
} else {
  const queues = (await get<QueueSummary[]>('/_local/queues')).filter((queue) => args.includes('--all') || queue.receivesFailuresOf.length > 0);
  for (const queue of queues) {
    const from = queue.receivesFailuresOf.length > 0 ? `  <- ${queue.receivesFailuresOf.join('; ')}` : '';
    console.log(`${String(queue.messages).padStart(6)}  ${queue.name}${from}`);
  }
  if (queues.some((queue) => queue.messages > 0 && queue.receivesFailuresOf.length > 0)) {
    console.log('\nnpm run dead-letters -- <queue> prints a queue\'s messages (docs/failures.md says how to redrive them).');
  }
}
