import { afterEach, describe, expect, it } from 'vitest'

import { applyLanguage, chooseLanguage, detectLanguage, formatMoney, i18n, LANGUAGES, t } from '@/i18n'
import enCore from '@/i18n/locales/en/core.json'
import enMore from '@/i18n/locales/en/more.json'
import ruCore from '@/i18n/locales/ru/core.json'
import ruMore from '@/i18n/locales/ru/more.json'
import { formatUsd, stopReasonText } from '@/lib/flow'

const en: Record<string, unknown> = { ...enCore, ...enMore }
const ru: Record<string, unknown> = { ...ruCore, ...ruMore }
const CATALOGUES: Record<string, Record<string, unknown>> = { en, ru }
const PLURAL = /_(zero|one|two|few|many|other)$/

/** Every leaf key of a nested catalogue, as dotted paths. */
function leaves(tree: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    value && typeof value === 'object'
      ? leaves(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  )
}

/** The keys without their plural suffixes: what the code asks for. */
const baseKeys = (lang: string) =>
  [...new Set(leaves(CATALOGUES[lang]).map((k) => k.replace(PLURAL, '')))].sort()

afterEach(async () => {
  await applyLanguage('en')
  window.localStorage.clear()
})

describe('the catalogues', () => {
  it('have the same keys in English and Russian, split the same way between the two parts', () => {
    expect(baseKeys('ru')).toEqual(baseKeys('en'))
    expect(Object.keys(ruCore).sort()).toEqual(Object.keys(enCore).sort())
    // A section lives in one part only (the parts are merged into one set of strings).
    expect(Object.keys(enCore).filter((k) => k in enMore)).toEqual([])
  })

  it('give every plural the forms its language needs (Intl.PluralRules), and no empty string', () => {
    for (const lang of LANGUAGES) {
      const keys = leaves(CATALOGUES[lang])
      const forms = new Intl.PluralRules(lang).resolvedOptions().pluralCategories
      const plurals = new Set(keys.filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, '')))
      for (const base of plurals) {
        for (const form of forms) expect(keys, `${lang}: ${base}_${form}`).toContain(`${base}_${form}`)
      }
      for (const key of keys) {
        const value = key
          .split('.')
          .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], CATALOGUES[lang])
        expect(String(value).trim(), `${lang}: ${key}`).not.toBe('')
      }
    }
  })

  it('use the same {{placeholders}} in both languages', () => {
    const vars = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort()
    const valueOf = (lang: string, key: string) =>
      String(
        key
          .split('.')
          .reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], CATALOGUES[lang]),
      )
    for (const key of leaves(en)) {
      if (PLURAL.test(key)) continue
      expect(vars(valueOf('ru', key)), key).toEqual(vars(valueOf('en', key)))
    }
  })
})

describe('Russian', () => {
  it('says 1 раунд, 2 раунда, 5 раундов, 11 раундов, 21 раунд', async () => {
    await applyLanguage('ru', true)
    const rounds = (n: number) => t('count.rounds', { count: n })
    expect([1, 2, 5, 11, 21, 22].map(rounds)).toEqual([
      '1 раунд',
      '2 раунда',
      '5 раундов',
      '11 раундов',
      '21 раунд',
      '22 раунда',
    ])
    expect(t('count.candidates', { count: 3 })).toBe('3 кандидата')
    expect(t('count.iterations', { count: 5 })).toBe('5 итераций')
    expect(stopReasonText({ stop_reason: 'plateau', plateau_rounds: 2 } as never)).toBe(
      'Остановлено: 2 раунда без улучшения.',
    )
  })

  it('writes money as US dollars the Russian way, and English the English way', async () => {
    await applyLanguage('ru', true)
    expect(formatMoney(1.2, 2).replace(/\s/g, ' ')).toBe('1,20 $')
    expect(formatUsd(0.053).replace(/\s/g, ' ')).toBe('0,053 $')
    await applyLanguage('en')
    expect(formatUsd(0.053)).toBe('$0.053')
    expect(formatUsd(1.2)).toBe('$1.20')
  })

  it('shows a known API error in the chosen language by its code', async () => {
    await applyLanguage('ru', true)
    const { describeError, ApiError } = await import('@/lib/api-client')
    const readable = describeError(new ApiError(409, 'run_in_progress', 'A run is already in progress.'))
    expect(readable.title).toBe('Запуск уже идёт')
    // An unknown code keeps the server's own words.
    const unknown = describeError(new ApiError(500, 'brand_new_code', 'Something new broke.'))
    expect(unknown.message).toBe('Something new broke.')
  })
})

describe('the language', () => {
  it('comes from the browser: any Russian variant gives Russian, anything else English', () => {
    expect(detectLanguage(null, ['ru-RU', 'en-US'])).toBe('ru')
    expect(detectLanguage(null, ['ru'])).toBe('ru')
    expect(detectLanguage(null, ['de-DE', 'ru-RU'])).toBe('ru')
    expect(detectLanguage(null, ['en-GB', 'ru-RU'])).toBe('en')
    expect(detectLanguage(null, ['fr-FR'])).toBe('en')
    expect(detectLanguage(null, [])).toBe('en')
  })

  it('is remembered once chosen, and sets <html lang>', async () => {
    await chooseLanguage('ru')
    expect(document.documentElement.lang).toBe('ru')
    expect(i18n.language).toBe('ru')
    expect(detectLanguage(undefined, ['en-US'])).toBe('ru')
    await chooseLanguage('en')
    expect(document.documentElement.lang).toBe('en')
    expect(detectLanguage(undefined, ['ru-RU'])).toBe('en')
  })
})
