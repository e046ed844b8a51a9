// Every request no operation matched: 405 (with Allow) for a known path, 404 otherwise.
import { routes } from '../shared/generated/routes.ts';
import { httpHandler, type HttpEvent } from '../shared/http/handler.ts';
import { HttpProblem } from '../shared/http/problem.ts';

function pathPattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

const knownPaths = [...new Set(routes.map((route) => route.path))].map((path) => ({
  pattern: pathPattern(path),
  allow: routes.filter((route) => route.path === path).map((route) => route.method),
}));

async function routeNotFound(event: HttpEvent): Promise<never> {
  const { method, path } = event.requestContext.http;
  const known = knownPaths.find((candidate) => candidate.pattern.test(path));
  if (known) {
    const allow = known.allow.join(', ');
    throw new HttpProblem(405, `${method} is not supported on ${path}; use ${allow}.`, { headers: { allow } });
  }
  // API Gateway matches paths exactly: /blobs/{id}/ is another path, not /blobs/{id}.
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed !== path && knownPaths.some((candidate) => candidate.pattern.test(trimmed))) {
    throw new HttpProblem(404, `There is nothing at ${path}; did you mean ${trimmed} (without the trailing slash)?`);
  }
  throw new HttpProblem(404, `There is nothing at ${path}.`);
}

export const handler = httpHandler(null, routeNotFound);
