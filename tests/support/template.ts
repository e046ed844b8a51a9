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
