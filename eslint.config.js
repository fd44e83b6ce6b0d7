// Plumbline's lint rules (README, "Code style"). Type-aware where a rule needs
// the compiler's types to be right: a promise nobody awaits, a promise handed
// to a callback that ignores it, an await on something that is not a promise.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      // The compiled command (npm run build): generated from the sources linted here.
      'dist/**',
      // Repositories and recorded tool output the tests read: user content, not Plumbline's code.
      '**/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        // Each file is checked with the tsconfig that covers it (the root one, bench's, the demo stack's).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it/test return promises the runner itself awaits and reports.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        // `_name` marks a value left out on purpose (a destructured field dropped, a parameter a signature requires).
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    // Plain JavaScript (the launcher, the test runner, CDKTF's runtime hooks): no tsconfig covers them.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS hooks loaded with `node --require`: require() is how they load.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Where printing to the terminal is the job.
    files: ['engine/cli/**', 'bin/**', 'scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // The provider boundary (docs/providers.md): a provider reaches the engine only through engine/provider-kit.ts.
    files: ['providers/**/*.ts'],
    ignores: ['providers/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+engine/(?!provider-kit\\.ts$)',
              message: 'A provider imports the engine only through engine/provider-kit.ts (docs/providers.md).',
            },
          ],
        },
      ],
    },
  },
);
