import { dynamoDb } from '../aws/dynamodb.ts';
import { config } from '../config.ts';
import { BlobProjection } from './blob-projection.ts';

export { BlobProjection, type BlobQuery, type BlobRow, type BlobSnapshot } from './blob-projection.ts';

let projection: BlobProjection | undefined;

/** The read model the functions share, as the template configures it. */
export function blobProjection(): BlobProjection {
  projection ??= new BlobProjection(dynamoDb(), config().readModelTable);
  return projection;
}
