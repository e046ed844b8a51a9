// The DynamoDB client (document API): the event log, the read model and the API keys.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { once } from './once.ts';
import { quickService } from './timeouts.ts';

export const dynamoDb = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: quickService }), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
