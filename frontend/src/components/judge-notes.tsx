import { useTranslation } from '@/i18n/react'
import { cn } from '@/lib/cn'
import type { Iteration } from '@/lib/types'

/** The judge's notes, strengths and weaknesses for one iteration. */
export function JudgeNotes({ iteration }: { iteration: Iteration }) {
  const { t } = useTranslation()
  const { judge_notes, judge_strengths, judge_weaknesses } = iteration
  return (
    <div className="space-y-3 text-sm">
      {judge_notes && <p className="text-zinc-200">{judge_notes}</p>}
      <NoteList title={t('judge.strengths')} items={judge_strengths} tone="text-emerald-300" />
      <NoteList title={t('judge.weaknesses')} items={judge_weaknesses} tone="text-rose-300" />
    </div>
  )
}

/** One titled list of the judge's points (nothing when there are none). */
function NoteList({ title, items, tone }: { title: string; items: string[]; tone: string }) {
  if (items.length === 0) return null
  return (
    <div>
      <h4 className={cn('text-xs font-semibold tracking-wide uppercase', tone)}>{title}</h4>
      <ul className="mt-1 list-inside list-disc space-y-0.5 text-zinc-300">
        {items.map((s, i) => (
          <li key={i}>{s}</li>
        ))}
      </ul>
    </div>
  )
}
