// The run options a person picks: rounds, candidates per round and an optional budget. One
// component for the session's optimize step and the batch page, bounded by the server's limits.
import { useTranslation } from '@/i18n/react'

import { FieldLabel, IterationsSlider } from '@/components/field'
import { RadioGroup } from '@/components/radio-group'
import type { RunChoice } from '@/lib/run-choice'
import type { Limits } from '@/lib/types'

export function RunFields({
  limits,
  choice,
  onChange,
  idPrefix,
  minRounds = 1,
  budgetLabel,
}: {
  limits: Limits
  choice: RunChoice
  onChange: (c: RunChoice) => void
  idPrefix: string
  /** A batch may make only each goal's first image (0 rounds); a session's run has 1 at least. */
  minRounds?: number
  budgetLabel?: string
}) {
  const { t } = useTranslation()
  const maxK = limits.max_candidates
  return (
    <div className="space-y-4">
      <IterationsSlider
        id={`${idPrefix}-rounds`}
        label={t('run.rounds')}
        min={minRounds}
        max={limits.max_iterations}
        value={choice.rounds}
        onChange={(rounds) => onChange({ ...choice, rounds })}
      />
      <div>
        <FieldLabel hint={t('run.candidatesHint')}>{t('run.candidates')}</FieldLabel>
        <RadioGroup
          label={t('run.candidates')}
          value={choice.candidates}
          options={Array.from({ length: maxK }, (_, i) => ({ value: i + 1, label: String(i + 1) }))}
          onChange={(candidates) => onChange({ ...choice, candidates })}
        />
      </div>
      <div>
        <FieldLabel htmlFor={`${idPrefix}-budget`} hint={t('run.budgetHint')}>
          {budgetLabel ?? t('run.budget')}
        </FieldLabel>
        <input
          id={`${idPrefix}-budget`}
          inputMode="decimal"
          placeholder={t('run.noLimit')}
          value={choice.budget}
          onChange={(e) => onChange({ ...choice, budget: e.target.value })}
          className="h-11 w-32 rounded-lg border border-zinc-700 bg-zinc-950/80 px-3 text-sm text-zinc-100 placeholder:text-zinc-400 focus:border-violet-400 focus:outline-none sm:h-9"
        />
      </div>
    </div>
  )
}
