// AWS clients are built on first use, one per service and process, each in its own module
// (shared/aws/<service>.ts) so that a function bundles only the SDK clients it uses. Endpoints
// come from the SDK's own AWS_ENDPOINT_URL[_SERVICE] variables, so the same code talks to AWS,
// to the local stack or to LocalStack/moto without a branch.
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}
