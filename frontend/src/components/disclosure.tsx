import type { ReactNode } from 'react'

import { cn } from '@/lib/cn'

/**
 * A native <details> whose summary looks openable: a chevron that turns when open, aligned with
 * the other rows, the whole line a 44 px target on a phone.
 */
export function Disclosure({
  summary,
  children,
  className,
  ...props
}: { summary: ReactNode; children: ReactNode; className?: string } & Record<`data-${string}`, string>) {
  return (
    <details className={cn('group text-sm', className)} {...props}>
      <summary className="flex min-h-11 cursor-pointer list-none items-center gap-1.5 text-zinc-300 hover:text-white sm:min-h-8 [&::-webkit-details-marker]:hidden">
        <svg
          viewBox="0 0 16 16"
          aria-hidden
          className="size-3.5 shrink-0 text-zinc-400 transition-transform group-open:rotate-90"
          fill="none"
          stroke="currentColor"
          strokeWidth={2}
        >
          <path d="M6 3.5 10.5 8 6 12.5" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        {summary}
      </summary>
      <div className="mt-2 space-y-2">{children}</div>
    </details>
  )
}
