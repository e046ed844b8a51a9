// `npm install`'s prepare step: generate types and validators from openapi.yaml, then build the
// client, the CLI and the page. Plain JavaScript, so that it runs before anything is compiled.
//
// `sam build` runs `npm install --production` in a copy of this folder (its esbuild builder, with
// CodeUri `.`): npm then omits the devDependencies this step needs (tsx, openapi-typescript,
// typescript) and sets NODE_ENV=production for scripts. The copy already holds what your own
// `npm install` generated and built, which is all the functions import, so there is nothing to do.
import { spawnSync } from 'node:child_process';

const omitted = (process.env.npm_config_omit ?? '').split(/[\s,]+/);
if (process.env.NODE_ENV === 'production' || omitted.includes('dev')) {
  console.log('prepare: dev dependencies omitted (sam build): keeping the generated and built files as they are');
  process.exit(0);
}
for (const script of ['generate', 'build']) {
  const { status } = process.env.npm_execpath
    ? spawnSync(process.execPath, [process.env.npm_execpath, 'run', script], { stdio: 'inherit' })
    : spawnSync('npm', ['run', script], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (status !== 0) process.exit(status ?? 1);
}
