import { useTranslation } from '@/i18n/react'
import type { Iteration } from '@/lib/types'

/** The judge's notes, strengths and weaknesses for one iteration. */
export function JudgeNotes({ iteration }: { iteration: Iteration }) {
  const { t } = useTranslation()
  const { judge_notes, judge_strengths, judge_weaknesses } = iteration
  return (
    <div className="space-y-3 text-sm">
      {judge_notes && <p className="text-zinc-200">{judge_notes}</p>}
      {judge_strengths.length > 0 && (
        <div>
          <h4 className="text-xs font-semibold tracking-wide text-emerald-300 uppercase">
            {t('judge.strengths')}
          </h4>
          <ul className="mt-1 list-inside list-disc space-y-0.5 text-zinc-300">
            {judge_strengths.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ul>
        </div>
      )}
      {judge_weaknesses.length > 0 && (
        <div>
          <h4 className="text-xs font-semibold tracking-wide text-rose-300 uppercase">
            {t('judge.weaknesses')}
          </h4>
          <ul className="mt-1 list-inside list-disc space-y-0.5 text-zinc-300">
            {judge_weaknesses.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}
