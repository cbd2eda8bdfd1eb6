import { useTranslation } from '@/i18n/react'
import { cn } from '@/lib/cn'
import { useEffect, useRef } from 'react'

import { ScoreBadge } from '@/components/status-badge'
import type { Iteration } from '@/lib/types'

interface Props {
  iterations: Iteration[]
  index: number
  sessionId: string
  onIndex: (index: number) => void
  onClose: () => void
}

/** One image full size. Arrow keys move between iterations, Escape closes; its own download. */
export function Lightbox({ iterations, index, sessionId, onIndex, onClose }: Props) {
  const { t } = useTranslation()
  const shown = iterations.filter((it) => it.image_url)
  const at = shown.findIndex((it) => it.index === index)
  const it = shown[at]
  const closeRef = useRef<HTMLButtonElement>(null)
  const prev = at > 0 ? shown[at - 1] : null
  const next = at >= 0 && at < shown.length - 1 ? shown[at + 1] : null

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null
    closeRef.current?.focus()
    return () => opener?.focus?.()
  }, [])
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose()
      else if (e.key === 'ArrowLeft' && prev) onIndex(prev.index)
      else if (e.key === 'ArrowRight' && next) onIndex(next.index)
      else return
      e.preventDefault()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [prev, next, onIndex, onClose])

  if (!it?.image_url) return null
  const ext = (it.image_mime ?? 'image/png').split('/')[1] ?? 'png'
  return (
    <div
      role="dialog"
      aria-modal="true"
      aria-label={t('lightbox.label', { n: it.index })}
      data-testid="lightbox"
      className="fixed inset-0 z-50 flex flex-col bg-zinc-950 p-2 sm:p-4"
      onClick={(e) => e.target === e.currentTarget && onClose()}
    >
      <div className="flex flex-wrap items-center justify-between gap-2 pb-2 text-sm text-zinc-100">
        <span className="flex items-center gap-2">
          {it.index === 0 ? t('image.first') : t('image.alt', { n: it.index })}
          {it.round != null && it.index !== 0 && (
            <span className="text-zinc-400">{t('lightbox.round', { n: it.round })}</span>
          )}
          <ScoreBadge score={it.judge_score} />
          <span className="text-zinc-400">
            {at + 1} / {shown.length}
          </span>
        </span>
        <span className="flex gap-2">
          <a
            href={it.image_url}
            download={`sfumato-${sessionId.slice(0, 8)}-iter-${it.index}.${ext}`}
            className="inline-flex h-11 items-center rounded-lg border border-zinc-600 px-3 hover:bg-zinc-800 sm:h-9"
          >
            {t('lightbox.download')}
          </a>
          <button
            ref={closeRef}
            type="button"
            onClick={onClose}
            className="inline-flex h-11 items-center rounded-lg border border-zinc-600 px-3 hover:bg-zinc-800 sm:h-9"
          >
            {t('lightbox.close')} <span className="ml-1 text-zinc-400">Esc</span>
          </button>
        </span>
      </div>
      <div className="relative flex min-h-0 flex-1 items-center justify-center">
        <img
          src={it.image_url}
          alt={t('image.alt', { n: it.index })}
          className="max-h-full max-w-full object-contain"
        />
        <StepArrow to={prev} side="left-1" name="lightbox.prev" glyph="‹" onIndex={onIndex} />
        <StepArrow to={next} side="right-1" name="lightbox.next" glyph="›" onIndex={onIndex} />
      </div>
    </div>
  )
}

/** The previous or next arrow over the image (none at either end). */
function StepArrow(props: {
  to: Iteration | null
  side: string
  name: 'lightbox.prev' | 'lightbox.next'
  glyph: string
  onIndex: (index: number) => void
}) {
  const { t } = useTranslation()
  const { to, onIndex } = props
  if (!to) return null
  return (
    <button
      type="button"
      aria-label={t(props.name, { n: to.index })}
      onClick={() => onIndex(to.index)}
      className={cn(
        'absolute flex size-12 items-center justify-center rounded-full bg-zinc-900/80 text-2xl text-white hover:bg-zinc-800',
        props.side,
      )}
    >
      {props.glyph}
    </button>
  )
}
