import type { ButtonHTMLAttributes } from 'react'

import { cn } from '@/lib/cn'

import { rovingKeyDown } from './roving'

type Props = ButtonHTMLAttributes<HTMLButtonElement> & { selected: boolean }

/**
 * A toggle chip for picking one value out of a few (aspect ratio, quality...). Inside a
 * role="radiogroup" only the selected chip is a tab stop and the arrow keys move the choice.
 */
export function Chip({ selected, className, onKeyDown, ...props }: Props) {
  return (
    <button
      type="button"
      role="radio"
      aria-checked={selected}
      tabIndex={selected ? 0 : -1}
      onKeyDown={(e) => {
        onKeyDown?.(e)
        if (!e.defaultPrevented) rovingKeyDown(e)
      }}
      className={cn(
        'min-h-11 rounded-full border px-3 py-1 text-sm transition-colors focus-visible:outline-2 focus-visible:outline-violet-400 sm:min-h-9',
        selected
          ? 'border-violet-400 bg-violet-500/20 text-violet-100'
          : 'border-zinc-700 text-zinc-300 hover:border-zinc-500 hover:text-white',
        className,
      )}
      {...props}
    />
  )
}
