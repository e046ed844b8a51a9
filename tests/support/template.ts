import { fileURLToPath } from 'node:url';
import { loadTemplate } from '../../local/template.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** template.yaml as the local stack reads it, with the parameters that have no default. */
export function loadTestTemplate() {
  return loadTemplate(`${projectRoot}template.yaml`, {
    stackName: 'image-labeling',
    region: 'us-east-1',
    accountId: '000000000000',
    parameterOverrides: { CallbackSigningSecret: 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC10ZXN0LXNpZ25pbmc=' },
  });
}

type TestTemplate = ReturnType<typeof loadTestTemplate>;

/** The bus rule that reaches a function: aimed at it, or at a queue it polls. */
export function ruleReaching(template: TestTemplate, functionId: string) {
  const fn = template.functions.find((candidate) => candidate.logicalId === functionId);
  if (!fn) throw new Error(`no function ${functionId}`);
  const queues = new Set(fn.queueSources.map((source) => source.queue));
  const rules = template.rules.filter((rule) =>
    'function' in rule.target ? rule.target.function === functionId : 'queue' in rule.target && queues.has(rule.target.queue),
  );
  if (rules.length !== 1) throw new Error(`${functionId} is reached by ${rules.length} rules, not one`);
  return rules[0]!;
}
