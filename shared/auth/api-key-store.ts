// The API keys table: one row per key, keyed by its id; the key itself is never stored.
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { generateApiKey, keyIdOf, matchesHash } from './api-keys.ts';

export interface ApiKeyRecord {
  key_id: string;
  key_hash: string;
  owner: string;
  name?: string;
  created_at: string;
  revoked_at?: string;
}

/** What may be shown about a key: everything but its hash. */
export type ApiKeyInfo = Omit<ApiKeyRecord, 'key_hash'>;

export class UnknownApiKeyError extends Error {
  override readonly name = 'UnknownApiKeyError';
}

export class ApiKeyStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(owner: string, name: string | undefined, now = new Date()): Promise<ApiKeyInfo & { api_key: string }> {
    const { apiKey, keyId, keyHash } = generateApiKey();
    const record: ApiKeyRecord = { key_id: keyId, key_hash: keyHash, owner, ...(name && { name }), created_at: now.toISOString() };
    await this.documents.send(
      new PutCommand({ TableName: this.table, Item: record, ConditionExpression: 'attribute_not_exists(key_id)' }),
    );
    return { api_key: apiKey, ...withoutHash(record) };
  }

  /** The owner of a valid, unrevoked key; undefined for a malformed, unknown or revoked one alike. */
  async verify(apiKey: string): Promise<ApiKeyInfo | undefined> {
    const keyId = keyIdOf(apiKey);
    if (!keyId) return undefined;
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.table, Key: { key_id: keyId }, ConsistentRead: true }));
    const record = Item as ApiKeyRecord | undefined;
    if (!record || record.revoked_at || !matchesHash(apiKey, record.key_hash)) return undefined;
    return withoutHash(record);
  }

  async list(): Promise<ApiKeyInfo[]> {
    const keys: ApiKeyInfo[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }));
      keys.push(...(page.Items ?? []).map((item) => withoutHash(item as ApiKeyRecord)));
      start = page.LastEvaluatedKey;
    } while (start);
    return keys.sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** Revokes a key (idempotent: the first revocation time stays). */
  async revoke(keyId: string, now = new Date()): Promise<ApiKeyInfo> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { key_id: keyId },
          UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :now)',
          ConditionExpression: 'attribute_exists(key_id)',
          ExpressionAttributeValues: { ':now': now.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return withoutHash(Attributes as ApiKeyRecord);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new UnknownApiKeyError(`there is no key ${keyId}`);
      throw error;
    }
  }
}

function withoutHash(record: ApiKeyRecord): ApiKeyInfo {
  const { key_hash: _hash, ...info } = record;
  return info;
}
