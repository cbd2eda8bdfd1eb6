import { useTranslation } from '@/i18n/react'

import { knownErrorCode, type ReadableError } from '@/lib/api-client'
import { cn } from '@/lib/cn'

interface Props {
  error: ReadableError | null
  className?: string
  onDismiss?: () => void
}

/** An API error as a person reads it: what happened, the server's words, and what to do next. */
export function ErrorAlert({ error, className, onDismiss }: Props) {
  const { t, i18n } = useTranslation()
  if (!error) return null
  // The server writes English: in another language a known code speaks for it, its words one click away.
  const tucked = i18n.language !== 'en' && knownErrorCode(error.code)
  return (
    <div
      role="alert"
      data-code={error.code}
      className={cn(
        'rounded-xl border border-rose-800/70 bg-rose-950/40 p-4 text-sm text-rose-100',
        className,
      )}
    >
      <div className="flex items-start justify-between gap-4">
        <div className="space-y-1">
          <p className="font-semibold text-rose-200">{error.title}</p>
          {tucked ? (
            <details className="text-rose-100/90">
              <summary className="cursor-pointer text-xs">{t('error.serverSays')}</summary>
              <p className="break-words" lang="en">
                {error.message}
              </p>
            </details>
          ) : (
            error.message && <p className="break-words text-rose-100/90">{error.message}</p>
          )}
          {error.hint && (
            <p className="text-rose-200/80">
              <span className="font-medium">{t('error.whatToDo')}</span>
              {error.hint}
            </p>
          )}
        </div>
        {onDismiss && (
          <button
            type="button"
            onClick={onDismiss}
            className="rounded px-2 text-rose-300 hover:bg-rose-900/50"
            aria-label={t('error.dismiss')}
          >
            ×
          </button>
        )}
      </div>
    </div>
  )
}
