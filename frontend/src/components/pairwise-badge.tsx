import { t } from '@/i18n'
import { cn } from '@/lib/cn'
import type { Pairwise } from '@/lib/types'

const TONE = {
  win: 'border-emerald-600 bg-emerald-950/50 text-emerald-200',
  loss: 'border-rose-700 bg-rose-950/50 text-rose-200',
  tie: 'border-zinc-600 bg-zinc-900 text-zinc-200',
} as const

const VERDICTS = ['candidate', 'incumbent', 'tie']
const verdict = (v: string | undefined) =>
  v && VERDICTS.includes(v) ? t(`pairwise.verdict.${v}`) : (v ?? '?')

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
        {t(`pairwise.${pairwise.result}`, { n: pairwise.against })}
      </span>
      <p className="text-xs text-zinc-400">
        {t('pairwise.asked', { first: verdict(first), second: verdict(second) })}
        {pairwise.result === 'tie' && t('pairwise.tieNote')}
      </p>
    </div>
  )
}
