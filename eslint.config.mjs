// ESLint: type-aware TypeScript rules, no import cycles, and functions a reader can hold in their head.
// `npm run lint` (part of `npm test`). Formatting is Prettier's job (prettier.config.mjs), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';

/** Rules every TypeScript file follows (the product, its tests and tools). */
const typeScriptRules = {
  // A promise nobody awaits loses its errors: await it, return it, or mark it `void` on purpose.
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
  '@typescript-eslint/await-thenable': 'error',
  // Every switch over a union handles every member (message protocols, cells, losses, regimes).
  '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
  '@typescript-eslint/no-unused-vars': [
    'error',
    { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
  ],
  // Type-only imports are erased: the bundles never load a module for its types.
  '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
  '@typescript-eslint/no-import-type-side-effects': 'error',
  'import-x/no-cycle': ['error', { ignoreExternal: true }],
  'import-x/no-self-import': 'error',
  'import-x/no-duplicates': ['error', { 'prefer-inline': true }],
  eqeqeq: ['error', 'always'],
  'no-eval': 'error',
  'no-implied-eval': 'off',
  '@typescript-eslint/no-implied-eval': 'error',
  'no-new-func': 'error',
};

/**
 * Product code stays small enough to read: no function body over 150 lines. Numeric kernels that must stay
 * long say why in an eslint-disable comment next to them.
 */
const productRules = {
  'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true, IIFEs: true }],
};

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'out/', '.harness/', 'test-results/', 'test/fixtures/', 'examples/', 'media/'],
  },
  {
    // Shared set-up: the import plugin resolves the sources' extension-less relative imports to .ts files.
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/extensions': ['.ts', '.js'],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Each file is checked with its own tsconfig: tsconfig.json (src, test, tools), webview/tsconfig.json.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: typeScriptRules,
  },
  {
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    rules: productRules,
  },
  {
    // Tests read JSON fixtures and reports as untyped data and assert on their fields.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // Plain Node scripts: the build, the test launchers, the harness and tools.
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 2022, globals: { ...globals.node } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-cycle': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
  {
    // Page scripts run in Chromium (page.evaluate / addInitScript bodies) as well as in Node.
    files: ['test/browser/**/*.js', 'test/e2e/**/*.js', 'tools/screenshots.js'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Mocha's globals in the plain-JS suites (browser and end-to-end tests).
    files: ['test/**/*.js'],
    languageOptions: { globals: { ...globals.mocha } },
  },
);
