import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import patterns that reach into the named top-level folders of src/ from one or two levels down. */
const layerBan = (folders) => folders.flatMap((f) => [`../${f}/*`, `../${f}`, `../../${f}/*`, `../../${f}`]);

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'action/dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly', AbortController: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // The core is pure: no clock, no environment, no I/O. Enforced, not just documented.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:fs*', 'fs', 'node:net', 'node:http*', 'node:child_process', 'node:os', '../github/*', '../engines/*', '../ledger/*', '../../github/*', '../../engines/*', '../../ledger/*'] }],
      'no-restricted-globals': ['error', 'fetch', 'process'],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'core is pure: take `now` as an argument' }, { object: 'Math', property: 'random', message: 'core is pure: no randomness' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core is pure: take `now` as an argument' }],
    },
  },
  {
    // Ports are the meeting point: they may name core types and nothing else.
    files: ['src/ports/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layerBan(['engines', 'github', 'ledger', 'pipeline', 'intake', 'schedule', 'app', 'action', 'cli', 'sandbox', 'demo', 'drill']) }] },
  },
  {
    // Engines act through ports only: never octokit, the adapter, the ledger or a flow.
    files: ['src/engines/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...layerBan(['github', 'ledger', 'pipeline', 'intake', 'schedule', 'app', 'action', 'cli', 'sandbox', 'demo', 'drill']), '@octokit/*', 'probot'] }] },
  },
  {
    // The GitHub adapter and the ledger implement or use ports; neither knows engines, flows or doors.
    files: ['src/github/**/*.ts', 'src/ledger/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layerBan(['engines', 'pipeline', 'intake', 'schedule', 'app', 'action', 'cli', 'sandbox', 'demo', 'drill']) }] },
  },
  {
    // Flows sit below the doors: they never import a door.
    files: ['src/pipeline/**/*.ts', 'src/intake/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layerBan(['app', 'action', 'cli', 'sandbox', 'demo', 'drill']) }] },
  },
  {
    // Below the doors nothing reads the environment: a door parses it once into typed Settings
    // (src/core/schemas/settings-env.ts) and passes them down. (The core bans `process` altogether.)
    files: ['src/pipeline/**/*.ts', 'src/engines/**/*.ts', 'src/github/**/*.ts', 'src/ledger/**/*.ts', 'src/intake/**/*.ts', 'src/schedule/**/*.ts', 'src/ports/**/*.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'below the doors nothing reads process.env: take the value from the Settings the door parsed' }] },
  },
);
