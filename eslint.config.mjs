// ESLint flat config. Type-aware rules run against tsconfig.check.json, one program for the
// whole repository, so tests and scripts are linted with the same types as the code they test.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

// Every workspace package declares what it imports (import-x/no-extraneous-dependencies against
// its own package.json); its tests may also use the root's dev tools (jest, fast-check).
const root = import.meta.dirname;
const workspaces = [
  ...['libs', 'services'].flatMap((group) =>
    readdirSync(path.join(root, group)).map((name) => `${group}/${name}`),
  ),
  'e2e',
  'bench',
].filter((dir) => existsSync(path.join(root, dir, 'package.json')));
const testFiles = (dir) => [`${dir}/**/__tests__/**/*.ts`, `${dir}/test/**/*.ts`];
const declaredImports = [
  ...workspaces.map((dir) => ({
    files: [`${dir}/**/*.ts`],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [path.join(root, dir)], devDependencies: false, optionalDependencies: false },
      ],
    },
  })),
  ...workspaces.map((dir) => ({
    files: testFiles(dir),
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [path.join(root, dir), root], devDependencies: true },
      ],
    },
  })),
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/coverage/**',
      '**/node_modules/**',
      '.local/**',
      'bench/results/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/naming-convention': [
        'error',
        { selector: 'default', format: ['camelCase'], leadingUnderscore: 'allow' },
        { selector: 'import', format: ['camelCase', 'PascalCase'] },
        {
          selector: 'variable',
          format: ['camelCase', 'UPPER_CASE', 'PascalCase'],
          leadingUnderscore: 'allow',
        },
        { selector: 'typeLike', format: ['PascalCase'] },
        { selector: 'enumMember', format: ['PascalCase', 'UPPER_CASE'] },
        // Wire formats (SQL columns, HTTP headers, Prometheus labels) keep their own spelling.
        { selector: ['objectLiteralProperty', 'typeProperty'], format: null },
      ],
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@streamtrain/*/src',
                '@streamtrain/*/src/*',
                '**/libs/*/src/*',
                '../../libs/*',
              ],
              message: 'Import a package by its name, through its index.',
            },
          ],
        },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-relative-packages': 'error',
    },
  },
  {
    // Command-line tools and benchmarks talk to a person on a terminal.
    files: ['bench/**/*.ts', '**/src/cli/**/*.ts', 'e2e/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  ...declaredImports,
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['jest.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
  {
    files: ['**/__tests__/**/*.ts', '**/test/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles are often async functions that only throw or return.
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
);
