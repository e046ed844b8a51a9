import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import type { ProblemDocument } from './problem.ts';

export type HttpResponse = Exclude<APIGatewayProxyResultV2, string>;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function problem(document: ProblemDocument, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode: document.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(document),
  };
}
