import { useTranslation } from '@/i18n/react'

import { formatDateTime } from '@/i18n'
import { useEffect, useRef, useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { PulsingLogo } from '@/components/pulsing-logo'
import { ScoreBadge, StatusBadge } from '@/components/status-badge'
import type { SessionStatus } from '@/lib/types'

import { type HistoryFilters, useHistoryPages } from './use-history-pages'

interface Props {
  onOpen: (id: string) => void
  onNew: () => void
}

const STATUSES: (SessionStatus | '')[] = ['', 'done', 'running', 'draft', 'failed']

const when = (iso: string) => formatDateTime(iso) || iso

/** Waits until typing pauses before searching, so each keystroke is not a request. */
function useDebounced(value: string, ms: number) {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

/** Calls `onVisible` whenever the element scrolls into view (again after each page arrives). */
function useWhenVisible(onVisible: () => void, rearm: unknown) {
  const ref = useRef<HTMLDivElement | null>(null)
  useEffect(() => {
    const node = ref.current
    if (!node || typeof IntersectionObserver === 'undefined') return
    const observer = new IntersectionObserver(
      (entries) => entries.some((e) => e.isIntersecting) && onVisible(),
      { rootMargin: '400px 0px' },
    )
    observer.observe(node)
    return () => observer.disconnect()
  }, [onVisible, rearm])
  return ref
}

/** Past sessions, newest first, a page at a time as the person scrolls; searchable by goal. */
export default function HistoryList({ onOpen, onNew }: Props) {
  const { t } = useTranslation()
  const [text, setText] = useState('')
  const [status, setStatus] = useState<HistoryFilters['status']>('')
  const q = useDebounced(text, 250)
  const { sessions, hasMore, error, loadMore, refresh } = useHistoryPages({ q, status })
  const sentinel = useWhenVisible(loadMore, sessions?.length)
  const filtered = q.trim() !== '' || status !== ''

  return (
    <Card className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm text-zinc-300">{t('history.intro')}</p>
        <Button size="sm" variant="ghost" onClick={refresh}>
          {t('history.refresh')}
        </Button>
      </div>
      <div className="flex flex-col gap-2 sm:flex-row">
        <input
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={t('history.search')}
          aria-label={t('history.search')}
          className="min-w-0 flex-1 rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 text-sm text-zinc-100 placeholder:text-zinc-400 focus:border-violet-500 focus:outline-none"
        />
        <select
          value={status}
          onChange={(e) => setStatus(e.target.value as HistoryFilters['status'])}
          aria-label={t('history.status')}
          className="rounded-lg border border-zinc-700 bg-zinc-950 px-3 py-2 text-sm text-zinc-100 focus:border-violet-500 focus:outline-none"
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s ? t(`history.filter.${s}`) : t('history.anyStatus')}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert error={error} />
      {!sessions && !error && <PulsingLogo size="sm" label={t('history.loading')} />}
      {sessions && sessions.length === 0 && (
        <div className="space-y-3 text-sm text-zinc-400">
          {filtered ? (
            <p>{t('history.noMatch')}</p>
          ) : (
            <>
              <p>{t('history.none')}</p>
              <Button variant="primary" onClick={onNew}>
                {t('history.startOne')}
              </Button>
            </>
          )}
        </div>
      )}
      {sessions && sessions.length > 0 && (
        <ul className="divide-y divide-zinc-800" data-testid="history-list">
          {sessions.map((s) => {
            const thumb = s.thumbnail_url ?? s.best_image_url
            return (
              <li key={s.session_id}>
                <button
                  type="button"
                  onClick={() => onOpen(s.session_id)}
                  data-session={s.session_id}
                  className="flex w-full items-center gap-3 py-3 text-left hover:bg-zinc-900/60 sm:gap-4 sm:px-2"
                >
                  {thumb ? (
                    <img
                      src={thumb}
                      alt=""
                      loading="lazy"
                      decoding="async"
                      width={56}
                      height={56}
                      className="size-14 shrink-0 rounded-lg border border-zinc-800 object-cover"
                    />
                  ) : (
                    <div className="size-14 shrink-0 rounded-lg border border-dashed border-zinc-800" />
                  )}
                  <div className="min-w-0 flex-1">
                    <p className="truncate text-sm text-zinc-100">{s.user_goal}</p>
                    <p className="mt-0.5 text-xs text-zinc-400">
                      {s.image_provider}
                      {s.demo && s.image_provider !== 'demo' && t('history.demo')} ·{' '}
                      {t('count.images', { count: s.iterations })} · {when(s.updated_at)}
                    </p>
                  </div>
                  <div className="flex shrink-0 flex-col items-end gap-1 sm:flex-row sm:items-center sm:gap-2">
                    <StatusBadge status={s.status} />
                    <ScoreBadge score={s.best_score} />
                  </div>
                </button>
              </li>
            )
          })}
        </ul>
      )}
      {sessions && hasMore && (
        <div ref={sentinel} className="flex justify-center" data-testid="history-more">
          <Button size="sm" variant="ghost" onClick={loadMore}>
            {t('history.more')}
          </Button>
        </div>
      )}
    </Card>
  )
}
