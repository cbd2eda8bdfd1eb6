import '@testing-library/jest-dom/vitest'

import { cleanup } from '@testing-library/react'
import { afterEach } from 'vitest'

import { i18n } from '@/i18n'
import en from '@/i18n/locales/en.json'

// Component tests read the English catalogue, loaded before any test renders.
i18n.addResourceBundle('en', 'translation', en, true, true)
void i18n.changeLanguage('en')

afterEach(() => cleanup())
