// The one header every page shows (session steps, history, batch): logo, navigation, language.
import { useTranslation } from '@/i18n/react'

import logo from '../../../assets/logo_horizontal_h96.png'
import { Button } from '@/components/button'
import { chooseLanguage, LANGUAGES, type Language } from '@/i18n'
import { cn } from '@/lib/cn'

export type HeaderPlace = 'new' | 'history' | 'batch' | null

interface Props {
  /** The page on screen, highlighted in the navigation (null: a session's step). */
  place: HeaderPlace
  onNew: () => void
  onHistory: () => void
}

const NAMES: Record<Language, string> = { en: 'English', ru: 'Русский' }

/** EN / RU: the choice is remembered on this device and sets `<html lang>`. */
function LanguageSwitch() {
  const { t, i18n } = useTranslation()
  return (
    <div role="group" aria-label={t('header.language')} className="flex items-center">
      {LANGUAGES.map((lang) => (
        <button
          key={lang}
          type="button"
          lang={lang}
          title={NAMES[lang]}
          aria-pressed={i18n.language === lang}
          onClick={() => void chooseLanguage(lang)}
          className={cn(
            'h-11 min-w-9 items-center justify-center rounded-lg px-2 text-xs font-semibold tracking-wide uppercase sm:h-8',
            // On a phone only the other language is offered (one button), on wider screens both.
            i18n.language === lang
              ? 'hidden bg-zinc-800 text-white sm:inline-flex'
              : 'inline-flex text-zinc-300 hover:text-white',
          )}
        >
          <span aria-hidden="true">{lang}</span>
          <span className="sr-only">{NAMES[lang]}</span>
        </button>
      ))}
    </div>
  )
}

export function AppHeader({ place, onNew, onHistory }: Props) {
  const { t } = useTranslation()
  return (
    <header className="flex items-center justify-between gap-1 sm:gap-2">
      <a
        href="#/"
        onClick={onNew}
        aria-label={t('header.home')}
        className="inline-flex min-h-11 shrink-0 items-center"
      >
        <img src={logo} alt="SFUMATO" width={384} height={96} className="h-7 w-auto sm:h-11" />
      </a>
      <nav className="flex min-w-0 items-center gap-0.5 sm:gap-1" aria-label={t('header.nav')}>
        <Button
          size="sm"
          className="px-2 sm:px-3"
          variant={place === 'new' ? 'secondary' : 'ghost'}
          onClick={onNew}
        >
          {/* A phone shows the short word; the button's name is the full one everywhere. */}
          <span className="sm:hidden" aria-hidden="true">
            {t('header.newShort')}
          </span>
          <span className="sr-only sm:not-sr-only">{t('header.new')}</span>
        </Button>
        <Button
          size="sm"
          className="px-2 sm:px-3"
          variant={place === 'history' ? 'secondary' : 'ghost'}
          onClick={onHistory}
        >
          {t('header.history')}
        </Button>
        <a
          className={cn(
            'inline-flex h-11 items-center rounded-lg px-2 text-sm hover:bg-zinc-800 sm:h-8 sm:px-3',
            place === 'batch' ? 'border border-zinc-700 bg-zinc-900 text-zinc-100' : 'text-zinc-300',
          )}
          aria-current={place === 'batch' ? 'page' : undefined}
          href="#/batch"
        >
          {t('header.batch')}
        </a>
        <LanguageSwitch />
      </nav>
    </header>
  )
}
