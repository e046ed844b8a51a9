// Every call has a deadline well under its function's timeout (10 s for most, 60 s for the
// labeler), so one stuck dependency fails a call instead of holding a pooled connection until
// Lambda kills the function. `requestTimeout` bounds the wait for the response's headers (the
// SDK only warns about it unless `throwOnRequestTimeout`), `socketTimeout` a body that stops
// arriving, `connectionTimeout` the connect.

/** DynamoDB, S3 and SQS answer in milliseconds: 2 s per attempt, 3 attempts (the SDK's default) stay under 10 s with the backoff. */
export const quickService = { connectionTimeout: 1_000, requestTimeout: 2_000, socketTimeout: 2_000, throwOnRequestTimeout: true };
