import type { HTMLAttributes } from 'react'

import { cn } from '@/lib/cn'

const CARD = 'rounded-2xl border border-zinc-800 bg-zinc-900/60 p-4 shadow-xl shadow-black/20 sm:p-6'

export function Card({ className, ...props }: HTMLAttributes<HTMLElement>) {
  return <section className={cn(CARD, className)} {...props} />
}
