// The offline demo notice under the header, on every page.
import { useState } from 'react'
import { Trans, useTranslation } from '@/i18n/react'

const BANNER_KEY = 'sfumato.offline-banner'

/** The offline notice: collapsible to one line, and it remembers. */
export function OfflineBanner({ missingKey }: { missingKey: string }) {
  const { t } = useTranslation()
  const [open, setOpen] = useState(() => {
    try {
      const saved = window.localStorage.getItem(BANNER_KEY)
      // Until the person chooses, a phone shows the one-line notice (the first screen is small).
      return saved ? saved !== 'collapsed' : !window.matchMedia?.('(max-width: 639px)').matches
    } catch {
      return true
    }
  })
  const toggle = () => {
    setOpen((o) => {
      try {
        window.localStorage.setItem(BANNER_KEY, o ? 'collapsed' : 'open')
      } catch {
        // ignore
      }
      return !o
    })
  }
  return (
    <div
      data-testid="offline-banner"
      data-open={open}
      className="flex items-start justify-between gap-2 rounded-xl border border-amber-700/50 bg-amber-950/30 px-3 py-0.5 text-sm text-amber-100"
    >
      <p className="py-2">
        <strong className="font-medium">{t('banner.title')}</strong>
        {open && (
          <>
            {' '}
            <Trans
              i18nKey="banner.body"
              values={{ key: missingKey }}
              components={{ code: <code className="rounded bg-zinc-800 px-1" /> }}
            />
          </>
        )}
      </p>
      <button
        type="button"
        onClick={toggle}
        aria-expanded={open}
        className="min-h-11 shrink-0 rounded-lg px-2 text-amber-200 underline-offset-2 hover:underline sm:min-h-9"
      >
        {open ? t('banner.hide') : t('banner.details')}
      </button>
    </div>
  )
}
