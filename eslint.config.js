// Lint: typescript-eslint's type-aware rules over every tsconfig (Worker, agent, Node tests, workerd tests).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** What each layer may not import: every layer above it. */
function layerRules() {
  const above = {
    'worker/db': ['effects', 'sync', 'services', 'routes', 'middleware', 'admin', 'durable'],
    'worker/effects': ['sync', 'services', 'routes', 'middleware', 'admin'],
    'worker/sync': ['services', 'routes', 'middleware', 'admin'],
    'worker/services': ['routes', 'middleware', 'admin'],
  };
  const layered = Object.entries(above).map(([dir, banned]) => ({
    files: [`${dir}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: banned.map((layer) => ({
            group: [`../${layer}/*`, `../../${layer}/*`, `**/worker/${layer}/*`],
            message: `${dir} sits below worker/${layer}: it may not import it (docs/ARCHITECTURE.md → Layers)`,
          })),
        },
      ],
    },
  }));
  const standalone = [
    { files: ['src/shared/**/*.ts'], what: 'src/shared is imported by the Worker, the agent and the admin page; it imports none of them' },
    { files: ['agent/**/*.ts'], what: 'the agent runs in the cluster; it shares only src/shared with the Worker' },
    { files: ['cli/**/*.ts'], what: 'the CLI talks to the Worker over HTTP; it shares only src/shared with it' },
  ].map(({ files, what }) => ({
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/worker/*', '**/worker'], message: what }] }],
    },
  }));
  // The console runs in the browser: it takes the API's types from src/shared/api (type-only, so no zod ships to the
  // page) and never builds markup from strings.
  const admin = {
    files: ['admin/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/worker/*', '**/worker', '**/agent/*'], message: 'the console talks to the Worker only through the /v1 API' },
            {
              group: ['**/src/shared/api/*', '**/src/shared/api'],
              allowTypeImports: true,
              message: 'import the API types only (import type): zod stays on the server',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'API values become text: build nodes with h() (admin/dom.ts)' },
        { property: 'outerHTML', message: 'API values become text: build nodes with h() (admin/dom.ts)' },
        { property: 'insertAdjacentHTML', message: 'API values become text: build nodes with h() (admin/dom.ts)' },
        { object: 'document', property: 'write', message: 'API values become text: build nodes with h() (admin/dom.ts)' },
      ],
    },
  };
  return [...layered, ...standalone, admin];
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.wrangler/',
      'dist/',
      '.test-results/',
      'worker/worker-configuration.d.ts',
      'worker/generated/',
      'migrations/',
      'test/fixtures/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: [
          './worker/tsconfig.json',
          './admin/tsconfig.json',
          './agent/tsconfig.json',
          './cli/tsconfig.json',
          './test/tsconfig.json',
          './test/worker/tsconfig.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers point one way (docs/ARCHITECTURE.md → Layers): routes → services → sync → effects → store (worker/db) →
  // base; src/shared and the agent import nothing of the Worker. `npm run lint:cycles` (madge) forbids file cycles.
  ...layerRules(),
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
);
