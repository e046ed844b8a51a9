// A Rekognition endpoint that always fails the same way: for showing, end to end, what the
// product does when the service keeps throttling or erroring (a fault the real detector
// cannot be made to produce on demand). Enabled by LOCAL_REKOGNITION_FAULT=<error type>, or
// `hang` for a service that never answers.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardServer, guardedHandler } from './http-safety.ts';
import { stackLogger } from './log.ts';

const statusOf: Record<string, number> = {
  ThrottlingException: 400,
  ProvisionedThroughputExceededException: 400,
  InternalServerError: 500,
  ServiceUnavailableException: 503,
};

export async function startFaultyRekognition(host: string, errorType: string) {
  let calls = 0;
  const server = createServer(guardedHandler('rekognition-fault', stackLogger, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/_local/stats') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detectLabelsCalls: calls, fault: errorType }));
        return;
      }
      calls++;
      if (errorType === 'hang') return;
      res.writeHead(statusOf[errorType] ?? 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': errorType });
      res.end(JSON.stringify({ __type: errorType, Message: `injected fault: ${errorType}` }));
    });
  }));
  guardServer(server, 'rekognition-fault', stackLogger);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
