// ESLint flat config: TypeScript + React hooks rules for the app, tests and e2e.
import js from '@eslint/js'
import reactHooks from 'eslint-plugin-react-hooks'
import reactRefresh from 'eslint-plugin-react-refresh'
import i18next from 'eslint-plugin-i18next'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'test-results',
      'playwright-report',
      'e2e/screenshots',
      '../app/web/dist',
      'src/lib/api.gen.ts',
    ],
  },
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser, ...globals.node },
    },
    plugins: { 'react-hooks': reactHooks, 'react-refresh': reactRefresh },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'react-refresh/only-export-components': ['warn', { allowConstantExport: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Every word a person reads comes from the catalogues (src/i18n/locales): JSX text, and the
  // attributes that are read out or shown (labels, titles, placeholders, alt text).
  {
    files: ['src/**/*.tsx'],
    ignores: ['src/**/*.test.tsx', 'src/test/**'],
    plugins: { i18next },
    rules: {
      'i18next/no-literal-string': [
        'error',
        {
          mode: 'jsx-only',
          'jsx-attributes': {
            include: ['aria-label', 'title', 'placeholder', 'alt', 'label', 'hint', 'summary', 'heading'],
            exclude: [],
          },
          // Symbols, numbers and brand names are not words to translate.
          words: { exclude: ['[0-9!-/:-@[-`{-~\\s·×→–—…✓✕‹›⌘≈]+', '[A-Z_-]+', 'SFUMATO', 'Esc', 'px', 'vs'] },
        },
      ],
    },
  },
  {
    files: ['e2e/**/*.ts', 'src/**/*.test.{ts,tsx}', 'src/test/**'],
    rules: { 'react-refresh/only-export-components': 'off' },
  },
)
