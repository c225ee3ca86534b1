// @ts-check
/**
 * `npm run lint:eslint`. Type-aware: typescript-eslint's recommendedTypeChecked over every
 * TypeScript file (server, migrations, tests, SDK), with the types of test/tsconfig.json, the one
 * program that holds all of them (`npm run typecheck` checks it). The project service is not used:
 * it looks for the nearest tsconfig.json, and those (the build's) leave the *.spec.ts files and
 * client-sdk/src/testing/ out on purpose, so it would find no types for a third of the files.
 *
 * Formatting is Prettier's (.prettierrc.json): eslint-config-prettier, last, turns off the
 * stylistic rules that would disagree with it.
 *
 * A rule that is wrong for one line is disabled on that line, with the reason. Relaxations for a
 * group of files are below, each with its reason; no recommended rule is off everywhere.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TYPESCRIPT = ['src/**/*.ts', 'migrations/**/*.ts', 'test/**/*.ts', 'client-sdk/src/**/*.ts'];
const TESTS = ['**/*.spec.ts', 'test/**/*.ts', 'client-sdk/src/testing/**/*.ts'];

export default defineConfig(
  { ignores: ['**/dist/', 'coverage/', '.switchyard-data/'] },
  {
    files: TYPESCRIPT,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: ['./test/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Destructuring a property beside a rest element is how this code copies an object without
      // that property (`const { hash: _, ...row } = r`): the property is unused by design.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: TESTS,
    rules: {
      // @types/jest types the asymmetric matchers (expect.any, expect.stringContaining,
      // expect.objectContaining...) as `any`, so every matcher inside an expected object is an
      // "unsafe assignment". The other no-unsafe-* rules stay on in tests: an `any` that is used
      // (called, read, passed on) is still reported.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // The web console: browser code, typed by its own program (console/tsconfig.json: DOM, Preact's JSX).
    files: ['console/src/**/*.ts', 'console/src/**/*.tsx'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.browser,
      parserOptions: {
        project: ['./console/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  prettier,
);
