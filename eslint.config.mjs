import neostandard from 'neostandard'

// Fastify's own lint (neostandard), TypeScript included. Generated files are not linted: the
// referrer tables, and what the tests write from the README (git ignores those too).
export default [
  { ignores: ['dist/**', 'coverage/**', '.tap/**', 'bench/.out/**', '.docs-samples/**', 'lib/attribution/data/**', 'test/module-formats/bundler/readme-usage.ts', 'test/module-formats/**/node_modules/**'] },
  ...neostandard({ ts: true }),
  {
    rules: {
      // `void promise` marks a promise left floating on purpose; compile-time checks use it too.
      'no-void': ['error', { allowAsStatement: true }],
      // Text checks match control characters (NUL, C0) on purpose.
      'no-control-regex': 'off'
    }
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      // `for (const _ of text) n++` counts code points; `_` says the value is unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
      // A const object and its value-union type share one name (`EventType`): the enum pattern without `enum`.
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
