// What failed and is waiting for a redrive, in the running local stack (npm start): every
// queue that receives failures (a redrive policy's dead-letter queue, a rule's
// DeadLetterConfig, a function's on-failure destination) with its depth and what sends to it;
// `-- <queue>` prints that queue's messages (any queue) as JSON, oldest first, leaving them
// in place. `--all` lists every queue. `--redrive <queue> [--to <queue>]` moves a dead-letter
// queue's messages back, with SQS's own StartMessageMoveTask as `aws sqs
// start-message-move-task` would call it. Reads the stack's address from DATA_DIR/stack.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListMessageMoveTasksCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';

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
const { endpoints, region, credentials } = JSON.parse(readFileSync(file, 'utf8')) as {
  endpoints: { sqs?: string };
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
};
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

/** A queue by its name or by its logical id in template.yaml (the name's last part). */
async function queueNamed(name: string): Promise<QueueSummary> {
  const queues = await get<QueueSummary[]>('/_local/queues');
  const queue = queues.find((candidate) => candidate.name === name || candidate.name.endsWith(`-${name}`));
  if (!queue) {
    console.error(`no queue ${name}; there are: ${queues.map((candidate) => candidate.name).join(', ')}`);
    process.exit(1);
  }
  return queue;
}

function option(name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

const redrive = option('--redrive');
const queueName = args.find((arg, at) => !arg.startsWith('--') && !['--redrive', '--to'].includes(args[at - 1] ?? ''));
if (args.includes('--redrive')) {
  if (!redrive) {
    console.error('usage: npm run dead-letters -- --redrive <dead-letter queue> [--to <queue>]');
    process.exit(2);
  }
  const source = await queueNamed(redrive);
  const to = option('--to');
  const destination = to ? await queueNamed(to) : undefined;
  const client = new SQSClient({ endpoint: endpoints.sqs, region, credentials });
  // SQS's refusal (e.g. a source that is no dead-letter queue) is the user's to read, not a stack trace.
  const refused = (error: unknown): never => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exit(1);
  };
  await client.send(new StartMessageMoveTaskCommand({ SourceArn: source.arn, ...(destination && { DestinationArn: destination.arn }) })).catch(refused);
  const { Results: [task] = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: source.arn, MaxResults: 1 })).catch(refused);
  console.log(`${task?.Status ?? 'UNKNOWN'}: moved ${task?.ApproximateNumberOfMessagesMoved ?? 0} of ${task?.ApproximateNumberOfMessagesToMove ?? 0} message(s) from ${source.name} to ${destination?.name ?? 'the queues they came from'}`);
  if (task?.FailureReason) console.log(task.FailureReason);
  process.exit(task?.Status === 'COMPLETED' ? 0 : 1);
} else if (queueName) {
  const queue = await queueNamed(queueName);
  console.log(JSON.stringify(await get<unknown[]>(`/_local/queues/${encodeURIComponent(queue.name)}`), null, 2));
} else {
  const queues = (await get<QueueSummary[]>('/_local/queues')).filter((queue) => args.includes('--all') || queue.receivesFailuresOf.length > 0);
  for (const queue of queues) {
    const from = queue.receivesFailuresOf.length > 0 ? `  <- ${queue.receivesFailuresOf.join('; ')}` : '';
    console.log(`${String(queue.messages).padStart(6)}  ${queue.name}${from}`);
  }
  if (queues.some((queue) => queue.messages > 0 && queue.receivesFailuresOf.length > 0)) {
    console.log('\nnpm run dead-letters -- <queue> prints a queue\'s messages; -- --redrive <queue> [--to <queue>] moves them back (docs/failures.md).');
  }
}
