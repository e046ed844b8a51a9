import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'shared/generated/', '.local-data/', '.aws-sam/', 'coverage/', '.local-build/', '**/dist/', 'clients/typescript/src/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The local stack (its own package, a development tool) and the product depend on nothing in
  // each other: the stack runs the functions that template.yaml names, it never imports them.
  {
    files: ['local/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: String.raw`^(\.\./)+(shared|functions|web|cli|clients|scripts|bench)/`, message: 'The local stack imports nothing from the product.' }] }],
    },
  },
  {
    files: ['functions/**', 'shared/**', 'web/src/**', 'cli/**', 'clients/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: String.raw`(^(\.\./)+local/|^@image-labeling/local-stack)`, message: 'The product imports nothing from the local stack (a development tool).' },
            // Its helpers import `{ z } from 'zod'`, which esbuild cannot shake (+385 KB a function).
            { group: ['@aws-lambda-powertools/parser', '@aws-lambda-powertools/parser/*'], message: 'Use shared/lambda/parse.ts (why: its header).' },
          ],
        },
      ],
      // esbuild bundles all of zod, locales included, for its `z` re-export; `import * as z` shakes.
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
          message: "Write `import * as z from 'zod'`: esbuild cannot shake zod's `z` export (+385 KB a function).",
        },
      ],
    },
  },
  // zod is for build time: the definitions (and the schemas, OpenAPI and validators generated
  // from them). A function parses with the generated validators (shared/lambda/parse.ts); a value
  // import of zod or of a definition module would bundle zod again (58-96 KB, ~45 ms of import).
  {
    files: ['functions/**', 'shared/**'],
    ignores: ['shared/blob/events.ts', 'shared/http/resources.ts', 'shared/lambda/inputs.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^zod(/|$)|(^|/)(blob/events|http/resources|lambda/inputs)\.ts$|^\./(events|resources|inputs)\.ts$`,
              allowTypeImports: true,
              message:
                'Only `import type` here: zod and its definitions are for build time. Parse with a generated validator (shared/lambda/parse.ts, shared/lambda/inputs.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
