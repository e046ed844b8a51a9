// `npm run rebuild-projections [-- --from-scratch]`: refold every blob's log into the read
// model. Against AWS: set EVENTS_TABLE and READ_MODEL_TABLE (the stack's table names) and
// the usual AWS credentials. Without them, it rebuilds the running local stack's (found
// through DATA_DIR/stack.json, which `npm start` writes).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BlobProjection } from '../shared/read-model/blob-projection.ts';
import { rebuildReadModel } from '../shared/read-model/rebuild.ts';

interface Target {
  client: DynamoDBClient;
  eventsTable: string;
  readModelTable: string;
}

function target(): Target {
  const { EVENTS_TABLE, READ_MODEL_TABLE } = process.env;
  if (EVENTS_TABLE && READ_MODEL_TABLE) {
    return { client: new DynamoDBClient({}), eventsTable: EVENTS_TABLE, readModelTable: READ_MODEL_TABLE };
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
  };
}

const { client, eventsTable, readModelTable } = target();
const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const result = await rebuildReadModel({
  client: documents,
  eventsTable,
  readModelTable,
  projection: new BlobProjection(documents, readModelTable),
  fromScratch: process.argv.includes('--from-scratch'),
});
console.log(JSON.stringify({ message: 'read model rebuilt', events_table: eventsTable, read_model_table: readModelTable, ...result }));
client.destroy();
