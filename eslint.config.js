// ESLint (flat config) with typescript-eslint's recommended rules; formatting is prettier's job
// (.prettierrc.json), so no stylistic rules here. `npm run lint:eslint` checks src/.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'tmp/', 'test/golden/', 'examples/web/dist/', '**/*.model.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The emitted module's runtime is plain JS that runs in browsers and in Node.
    files: ['**/*.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    rules: {
      // `_`-prefixed parameters are deliberately unused (a rule's signature, a table entry's).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
