import { useTranslation } from '@/i18n/react'
import { useState } from 'react'

import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount, FieldLabel, TextArea } from '@/components/field'
import { ChecklistEditor } from '@/features/run/checklist-editor'
import { RunOptions } from '@/features/run/run-options'
import { choiceProblem } from '@/lib/run-choice'
import { useRunChoice } from '@/features/run/use-run-choice'
import { useBusyAction } from '@/hooks/use-busy-action'
import { api } from '@/lib/api-client'
import type { Limits, Session } from '@/lib/types'

/** After a run: the checklist, more feedback and more rounds, starting from the best so far. */
interface Props {
  session: Session
  limits: Limits
  onSession: (s: Session) => void
}

export function KeepImproving({ session, limits, onSession }: Props) {
  const { t } = useTranslation()
  const [open, setOpen] = useState(false)
  const [feedback, setFeedback] = useState('')
  const next = useRunChoice(session, limits, { rounds: 1 })
  const [checklistDirty, setChecklistDirty] = useState(false)
  const { busy, error, clearError, act } = useBusyAction()
  const tooLong = feedback.length > limits.max_feedback_chars
  const blocked = tooLong
    ? t('more.tooLong')
    : checklistDirty
      ? t('review.checklistDirty')
      : choiceProblem(next.choice, limits)

  const run = () =>
    act(async () => {
      if (feedback.trim()) onSession(await api.feedback(session.session_id, feedback.trim(), false))
      onSession(await api.optimize(session.session_id, next.body()))
    })

  if (!open) {
    return (
      <div className="flex justify-start">
        <Button onClick={() => setOpen(true)}>{t('more.open')}</Button>
      </div>
    )
  }
  return (
    <section className="space-y-5 rounded-2xl border border-zinc-800 p-4" aria-label={t('more.label')}>
      <ChecklistEditor
        session={session}
        maxItems={limits.max_checklist_items}
        onSession={onSession}
        onDirtyChange={setChecklistDirty}
      />
      <div>
        <FieldLabel
          htmlFor="more-feedback"
          hint={<CharCount value={feedback} max={limits.max_feedback_chars} />}
        >
          {t('more.feedbackLabel')}
        </FieldLabel>
        <TextArea
          id="more-feedback"
          rows={2}
          value={feedback}
          onChange={(e) => setFeedback(e.target.value)}
        />
      </div>
      <RunOptions {...next.options} idPrefix="more" />
      <ErrorAlert error={error} onDismiss={clearError} />
      <div className="flex flex-wrap items-center justify-end gap-3">
        {blocked && <p className="mr-auto text-sm text-rose-300">{blocked}</p>}
        <Button variant="ghost" onClick={() => setOpen(false)} disabled={busy}>
          {t('lightbox.close')}
        </Button>
        <Button variant="primary" onClick={() => void run()} disabled={busy || !!blocked}>
          {t('more.run', { count: next.choice.rounds })}
        </Button>
      </div>
    </section>
  )
}
