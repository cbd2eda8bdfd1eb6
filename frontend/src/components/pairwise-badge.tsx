import { cn } from '@/lib/cn'
import type { Pairwise } from '@/lib/types'

const TEXT = { win: 'Won', loss: 'Lost', tie: 'Tie' } as const
const TONE = {
  win: 'border-emerald-600 bg-emerald-950/50 text-emerald-200',
  loss: 'border-rose-700 bg-rose-950/50 text-rose-200',
  tie: 'border-zinc-600 bg-zinc-900 text-zinc-200',
} as const

const verdict = (v: string | undefined) =>
  v === 'candidate'
    ? 'this one'
    : v === 'incumbent'
      ? 'the best so far'
      : v === 'tie'
        ? 'no preference'
        : (v ?? '?')

/** The order-swapped comparison with the incumbent: win / tie / loss vs #N and both verdicts. */
export function PairwiseBadge({ pairwise }: { pairwise: Pairwise }) {
  const [first, second] = pairwise.verdicts
  return (
    <div className="space-y-1" data-testid="pairwise" data-result={pairwise.result}>
      <span
        className={cn(
          'inline-block rounded-full border px-2 py-0.5 text-xs font-medium',
          TONE[pairwise.result],
        )}
      >
        {TEXT[pairwise.result]} vs #{pairwise.against}
      </span>
      <p className="text-xs text-zinc-400">
        Asked twice: with this image first, the judge chose {verdict(first)}; with it second,{' '}
        {verdict(second)}.{pairwise.result === 'tie' && ' The two orders disagree, so the best stays.'}
      </p>
    </div>
  )
}
