import type { ButtonHTMLAttributes } from 'react'

import { cn } from '@/lib/cn'

type Props = ButtonHTMLAttributes<HTMLButtonElement> & { selected: boolean }

/** A toggle chip for picking one value out of a few (aspect ratio, quality...). */
export function Chip({ selected, className, ...props }: Props) {
  return (
    <button
      type="button"
      role="radio"
      aria-checked={selected}
      className={cn(
        'rounded-full border px-3 py-1 text-sm transition-colors focus-visible:outline-2 focus-visible:outline-violet-400',
        selected
          ? 'border-violet-400 bg-violet-500/20 text-violet-100'
          : 'border-zinc-700 text-zinc-300 hover:border-zinc-500 hover:text-white',
        className,
      )}
      {...props}
    />
  )
}
