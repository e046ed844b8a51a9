// Plain JavaScript on purpose: Node can start this file in a worker thread however the parent
// was launched (tsx, vitest, plain node). It installs tsx's ESM loader for this thread only,
// then loads the TypeScript worker. The pool starts workers with `execArgv: []`, so a parent's
// own loader flags are not inherited and tsx is never registered twice.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
