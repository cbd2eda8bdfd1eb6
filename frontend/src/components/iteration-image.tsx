import { useTranslation } from '@/i18n/react'
import { cn } from '@/lib/cn'
import type { Iteration } from '@/lib/types'

interface Props {
  iteration: Iteration
  className?: string
  large?: boolean
  /** Show the small thumbnail (<= 320 px), linked to the full image. */
  thumb?: boolean
}

/** An iteration's picture, or an honest placeholder when it failed or has no image. */
export function IterationImage({ iteration, className, large, thumb }: Props) {
  const { t } = useTranslation()
  if (iteration.image_url) {
    const small = thumb && iteration.thumbnail_url
    const picture = (
      <img
        src={small ? iteration.thumbnail_url! : iteration.image_url}
        alt={t('image.alt', { n: iteration.index })}
        loading={large ? 'eager' : 'lazy'}
        decoding="async"
        className={cn(
          'w-full rounded-xl border border-zinc-800 bg-zinc-950 object-contain',
          large ? 'max-h-[70vh]' : 'h-auto max-h-80',
          className,
        )}
      />
    )
    return small ? (
      <a href={iteration.image_url} target="_blank" rel="noreferrer" title={t('image.openFull')}>
        {picture}
      </a>
    ) : (
      picture
    )
  }
  return (
    <div
      className={cn(
        'flex aspect-video w-full items-center justify-center rounded-xl border border-dashed p-4 text-center text-sm',
        iteration.status === 'failed' ? 'border-rose-800 text-rose-300' : 'border-zinc-700 text-zinc-400',
        className,
      )}
    >
      {iteration.status === 'failed' ? t('image.failed') : t('image.none')}
    </div>
  )
}
