// `npm run api-keys -- create --owner <name> [--name <label>] | list | revoke <key id>`:
// manages the API keys of AuthMode ApiKey. Each command prints one JSON line; `create` is
// the only time a key is shown. Against AWS: set API_KEYS_TABLE (the stack's ApiKeysTableName
// output) and the usual AWS credentials. Without it, the running local stack's keys (found
// through DATA_DIR/stack.json, which `npm start` writes); it sees a revocation at once.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApiKeyStore, UnknownApiKeyError } from '../shared/auth/api-key-store.ts';

const usage = 'usage: npm run api-keys -- create --owner <name> [--name <label>] | list | revoke <key id>';

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function target(): { client: DynamoDBClient; table: string } {
  if (process.env.API_KEYS_TABLE) return { client: new DynamoDBClient({}), table: process.env.API_KEYS_TABLE };
  const file = join(process.env.DATA_DIR ?? '.local-data', 'stack.json');
  if (!existsSync(file)) throw new UsageError(`set API_KEYS_TABLE, or start the local stack first (${file} not found)`);
  const stack = JSON.parse(readFileSync(file, 'utf8')) as {
    endpoints: { dynamodb: string };
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    tables: { apiKeys?: string };
  };
  if (!stack.tables.apiKeys) throw new UsageError(`${file} names no API keys table; restart the local stack`);
  return {
    client: new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: stack.region, credentials: stack.credentials }),
    table: stack.tables.apiKeys,
  };
}

async function run(store: ApiKeyStore, args: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { owner: { type: 'string' }, name: { type: 'string' } },
  });
  const [command, ...rest] = positionals;
  switch (command) {
    case 'create': {
      const owner = values.owner?.trim();
      if (!owner) throw new UsageError('create needs --owner <name>');
      return store.create(owner, values.name);
    }
    case 'list':
      return { keys: await store.list() };
    case 'revoke': {
      if (rest.length !== 1) throw new UsageError('revoke needs one key id');
      return { revoked: await store.revoke(rest[0]!) };
    }
    default:
      throw new UsageError(usage);
  }
}

let client: DynamoDBClient | undefined;
try {
  const found = target();
  client = found.client;
  const store = new ApiKeyStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), found.table);
  console.log(JSON.stringify(await run(store, process.argv.slice(2))));
} catch (error) {
  const known = error instanceof UsageError || error instanceof UnknownApiKeyError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`api-keys: ${known ? (error as Error).message : String(error)}`);
  process.exitCode = known ? 2 : 1;
} finally {
  client?.destroy();
}
