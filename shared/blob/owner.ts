// Its own module, free of the schemas: the HTTP layer needs it in every function, the route
// fallback included, which would otherwise bundle zod and every event definition for a string.

/**
 * The owner of every blob when the API is open (AuthMode None), and of every blob created
 * before BlobCreated recorded its owner (schema_version 1): the API was open then.
 */
export const ANONYMOUS_OWNER = 'anonymous';
