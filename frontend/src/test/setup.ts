import '@testing-library/jest-dom/vitest'

import { cleanup } from '@testing-library/react'
import { afterEach } from 'vitest'

import { i18n } from '@/i18n'
import core from '@/i18n/locales/en/core.json'
import more from '@/i18n/locales/en/more.json'

// Component tests read the English catalogue, loaded before any test renders.
i18n.addResourceBundle('en', 'translation', core, true, true)
i18n.addResourceBundle('en', 'translation', more, true, true)
void i18n.changeLanguage('en')

afterEach(() => cleanup())
