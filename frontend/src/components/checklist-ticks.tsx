import { useTranslation } from '@/i18n/react'
import { cn } from '@/lib/cn'
import { percent } from '@/lib/flow'
import type { ChecklistItem, Iteration } from '@/lib/types'

const MARK = { yes: '✓', no: '✕', unsure: '?' } as const
const TONE = {
  yes: 'text-emerald-300',
  no: 'text-rose-300',
  unsure: 'text-amber-200',
} as const

/** One image's checklist: every question answered yes / no / unsure, with the judge's few words. */
export function ChecklistTicks({
  iteration,
  checklist,
  version,
}: {
  iteration: Iteration
  checklist: ChecklistItem[]
  /** The session's checklist version: answers from another version name their ids, not today's questions. */
  version?: number
}) {
  const { t } = useTranslation()
  const results = iteration.checklist_results ?? []
  if (!results.length) return null
  const stale =
    version != null && iteration.checklist_version != null && iteration.checklist_version !== version
  const question = new Map(stale ? [] : checklist.map((q) => [q.id, q.question]))
  return (
    <div data-testid="checklist-ticks" className="space-y-1">
      <p className="text-xs text-zinc-400">
        {t('checklist.passed', { pct: percent(iteration.checklist_pass) })}
        {iteration.checklist_version != null &&
          t('checklist.version', { version: iteration.checklist_version })}
        {stale && t('checklist.stale')}
      </p>
      <ul className="space-y-1 text-sm">
        {results.map((r) => (
          <li key={r.id} data-answer={r.answer} className="flex gap-2">
            <span className={cn('w-4 shrink-0 text-center font-bold', TONE[r.answer])} aria-hidden>
              {MARK[r.answer] ?? '?'}
            </span>
            <span className="text-zinc-200">
              <span className="sr-only">{t(`checklist.answer.${r.answer}`)}: </span>
              {question.get(r.id) ?? r.id}
              {r.note && <span className="text-zinc-400"> — {r.note}</span>}
            </span>
          </li>
        ))}
      </ul>
    </div>
  )
}
