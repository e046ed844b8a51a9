// `npm run rebuild-projections [-- --from-scratch]`: refold every blob's log into the read
// model. Against AWS: set EVENTS_TABLE and READ_MODEL_TABLE (the stack's table names) and
// the usual AWS credentials. Without them, it rebuilds the running local stack's (found
// through DATA_DIR/stack.json, which `npm start` writes).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BlobProjection } from '../shared/read-model/blob-projection.ts';
import { rebuildReadModel } from '../shared/read-model/rebuild.ts';

interface Target {
  client: DynamoDBClient;
  eventsTable: string;
  readModelTable: string;
  local: boolean;
}

function target(): Target {
  const { EVENTS_TABLE, READ_MODEL_TABLE } = process.env;
  if (EVENTS_TABLE && READ_MODEL_TABLE) {
    return { client: new DynamoDBClient({}), eventsTable: EVENTS_TABLE, readModelTable: READ_MODEL_TABLE, local: false };
  }
  const file = join(process.env.DATA_DIR ?? '.local-data', 'stack.json');
  if (!existsSync(file)) {
    throw new Error(`set EVENTS_TABLE and READ_MODEL_TABLE, or start the local stack first (${file} not found)`);
  }
  const stack = JSON.parse(readFileSync(file, 'utf8')) as {
    endpoints: { dynamodb: string };
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    tables: { events: string; readModel: string };
  };
  return {
    client: new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: stack.region, credentials: stack.credentials }),
    eventsTable: stack.tables.events,
    readModelTable: stack.tables.readModel,
    local: true,
  };
}

/**
 * In AWS a stack update adds an index the template declares to the read-model table. The
 * local DynamoDB cannot add one to an existing table, so a local read model made before the
 * index existed (e.g. `Unfinished`, with owners) is made again from the template here: it holds
 * nothing the log does not, and the rebuild below refills it. Returns whether it did.
 */
async function recreateLocalTableIfIndexesDiffer(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  // The local stack's template reader, loaded only here: against AWS the script needs nothing of it.
  const { readTemplateDocument } = await import('../local/template.ts');
  const resources = readTemplateDocument(join(import.meta.dirname, '..', 'template.yaml')).Resources as unknown as Record<
    string,
    { Properties: Omit<CreateTableCommandInput, 'TableName'> }
  >;
  const declared = resources.BlobsReadModelTable!.Properties;
  const has = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  if ((declared.GlobalSecondaryIndexes ?? []).every((index) => has.has(index.IndexName))) return false;
  // Deleting and creating a table take a moment, as in AWS: wait for each to be done.
  const waiting = { client, minDelay: 1, maxDelay: 2, maxWaitTime: 60 };
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  await waitUntilTableNotExists(waiting, { TableName: tableName });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: declared.KeySchema,
      AttributeDefinitions: declared.AttributeDefinitions,
      GlobalSecondaryIndexes: declared.GlobalSecondaryIndexes,
    }),
  );
  await waitUntilTableExists(waiting, { TableName: tableName });
  return true;
}

const { client, eventsTable, readModelTable, local } = target();
const fromScratch = process.argv.includes('--from-scratch');
const recreatedTable = local && fromScratch ? await recreateLocalTableIfIndexesDiffer(client, readModelTable) : false;
const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const result = await rebuildReadModel({
  client: documents,
  eventsTable,
  readModelTable,
  projection: new BlobProjection(documents, readModelTable),
  fromScratch,
});
console.log(
  JSON.stringify({
    message: 'read model rebuilt',
    events_table: eventsTable,
    read_model_table: readModelTable,
    ...result,
    ...(recreatedTable && { recreated_table: 'its indexes differed from template.yaml' }),
  }),
);
client.destroy();
