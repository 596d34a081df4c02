// ESLint (flat config): typescript-eslint's type-checked rules on every TypeScript file; Prettier owns the
// formatting (eslint-config-prettier turns the rules that would fight it off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/',
      '**/node_modules/',
      '.dapr/',
      '.k8s/',
      '.cluster/',
      '.ci-out/',
      'coverage/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      '@typescript-eslint/consistent-type-definitions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'error',
    },
  },
  {
    // Test fakes implement async interfaces: an async method with nothing to await keeps a throw a rejection,
    // as in the real thing.
    files: ['**/*.test.ts', 'test/**/*.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Outside tests no function runs past a page: one that does several jobs becomes named steps.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'test/**/*.ts', '**/test/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
  prettier,
);
