// The web app's two languages. i18next holds the strings; each language's catalogue is fetched on
// demand, in two parts: `core` (the shell and the goal form) before the first render, `more` (the
// session steps, history, batch and the API errors) with the code of those pages, or on the goal
// form as soon as the person does anything. So the first screen downloads one language's first
// part only.
import i18next from 'i18next'

export const LANGUAGES = ['en', 'ru'] as const
export type Language = (typeof LANGUAGES)[number]

const STORAGE_KEY = 'sfumato.lang'

type Part = 'core' | 'more'
type Loader = () => Promise<{ default: Record<string, unknown> }>

const CATALOGUES: Record<Language, Record<Part, Loader>> = {
  en: { core: () => import('./locales/en/core.json'), more: () => import('./locales/en/more.json') },
  ru: { core: () => import('./locales/ru/core.json'), more: () => import('./locales/ru/more.json') },
}

const loading = new Map<string, Promise<void>>()

/** Fetch one part of a language's catalogue (once) and merge it into the strings. */
function loadPart(lang: Language, part: Part): Promise<void> {
  const key = `${lang}:${part}`
  if (!loading.has(key)) {
    const done = CATALOGUES[lang][part]().then((m) => {
      i18n.addResourceBundle(lang, 'translation', m.default, true, true)
    })
    done.catch(() => loading.delete(key)) // a failed fetch may be tried again
    loading.set(key, done)
  }
  return loading.get(key)!
}

/** Resolves once every string of the language on screen is loaded (the lazy pages wait for it). */
export const whenComplete = (): Promise<void> => loadPart(currentLanguage(), 'more')

/** A lazily imported page module, ready once its code and all the strings have arrived. */
export function withStrings<T>(module: Promise<T>): Promise<T> {
  return Promise.all([module, whenComplete()]).then(([m]) => m)
}

export const i18n = i18next.createInstance()
void i18n.init({
  lng: undefined,
  fallbackLng: false,
  resources: {},
  partialBundledLanguages: true,
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
})

/** The translate function of the one instance, for code outside components (labels, errors). */
export const t = (key: string, options: Record<string, unknown> = {}): string =>
  i18n.t(key, options) as string

const isLanguage = (value: unknown): value is Language => LANGUAGES.includes(value as Language)

/** The person's choice if they made one, else the browser's: any Russian variant gives Russian. */
export function detectLanguage(
  stored: string | null = readStored(),
  preferred: readonly string[] = navigator.languages ?? [navigator.language],
): Language {
  if (isLanguage(stored)) return stored
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0]
    if (base === 'ru') return 'ru'
    if (base === 'en') return 'en'
  }
  return 'en'
}

function readStored(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

/** Fetch a language's first part (and with `complete`, all of it) and switch; `<html lang>` follows. */
export async function applyLanguage(lang: Language, complete = false): Promise<void> {
  await Promise.all([loadPart(lang, 'core'), complete ? loadPart(lang, 'more') : null])
  await i18n.changeLanguage(lang)
  document.documentElement.lang = lang
}

/** The header's switch: change the language and remember the choice on this device. */
export async function chooseLanguage(lang: Language): Promise<void> {
  try {
    window.localStorage.setItem(STORAGE_KEY, lang)
  } catch {
    // private mode: the choice lasts this visit only
  }
  // Whatever page is on screen already needs all of its strings.
  await applyLanguage(lang, true)
}

/** The language on screen ('en' before any catalogue is loaded). */
export function currentLanguage(): Language {
  return isLanguage(i18n.language) ? i18n.language : 'en'
}

const LOCALES: Record<Language, string> = { en: 'en-US', ru: 'ru-RU' }

/** The BCP 47 locale Intl formats with for the language on screen. */
export const locale = (): string => LOCALES[currentLanguage()]

/** A number in the language's way of writing it ("1,234.5" / "1 234,5"). */
export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(locale(), options).format(value)
}

/** Money is always US dollars (what the providers bill), written the language's way. */
export function formatMoney(usd: number, fractionDigits: number): string {
  return new Intl.NumberFormat(locale(), {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(usd)
}

/** A date and time, short, in the language on screen. */
export function formatDateTime(iso: string | number | Date, options?: Intl.DateTimeFormatOptions): string {
  const date = iso instanceof Date ? iso : new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  return new Intl.DateTimeFormat(locale(), options ?? { dateStyle: 'medium', timeStyle: 'short' }).format(
    date,
  )
}
