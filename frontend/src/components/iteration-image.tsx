import { cn } from '@/lib/cn'
import type { Iteration } from '@/lib/types'

interface Props {
  iteration: Iteration
  className?: string
  large?: boolean
}

/** An iteration's picture, or an honest placeholder when it failed or has no image. */
export function IterationImage({ iteration, className, large }: Props) {
  if (iteration.image_url) {
    return (
      <img
        src={iteration.image_url}
        alt={`Iteration ${iteration.index}`}
        loading={large ? 'eager' : 'lazy'}
        className={cn(
          'w-full rounded-xl border border-zinc-800 bg-zinc-950 object-contain',
          large ? 'max-h-[70vh]' : 'h-auto max-h-80',
          className,
        )}
      />
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
      {iteration.status === 'failed' ? 'No image: this iteration failed' : 'No image'}
    </div>
  )
}
