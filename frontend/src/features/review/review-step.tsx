import { useTranslation } from '@/i18n/react'
import { useEffect, useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount, TextAreaField } from '@/components/field'
import { IterationImage } from '@/components/iteration-image'
import { JudgeNotes } from '@/components/judge-notes'
import { LiveProgress } from '@/components/live-progress'
import { PulsingLogo } from '@/components/pulsing-logo'
import { ScoreBadge } from '@/components/status-badge'
import { ChecklistTicks } from '@/components/checklist-ticks'
import { BranchButton, type BranchFn } from '@/features/run/branch-button'
import { ChecklistEditor } from '@/features/run/checklist-editor'
import { RunOptions } from '@/features/run/run-options'
import { choiceProblem } from '@/lib/run-choice'
import { useRunChoice } from '@/features/run/use-run-choice'
import { useSubmitHotkey } from '@/hooks/use-submit-hotkey'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { clearDraft, draftKeys, loadDraft, saveDraft } from '@/lib/drafts'
import { firstIteration, hasOptimized, latestIteration } from '@/lib/flow'
import type { Limits, Session } from '@/lib/types'

interface Props {
  session: Session
  limits: Limits
  onSession: (session: Session) => void
  onBackToPrompt: () => void
  onShowResult: () => void
  onBranch: BranchFn
}

/** Step 3: the first image large with its score, notes and checklist; accept it or ask for improvements. */
export default function ReviewStep(props: Props) {
  const { t } = useTranslation()
  const { session, onBackToPrompt } = props
  const running = session.status === 'running'
  const optimized = hasOptimized(session) && !(running && session.run?.kind === 'generate')
  const it = optimized ? firstIteration(session) : latestIteration(session)

  return (
    <div className="space-y-5">
      {running && session.run?.kind === 'generate' && <LiveProgress session={session} />}
      {session.status === 'failed' && session.error && !it && (
        <ErrorAlert error={describeError(session.error)} />
      )}
      {optimized && (
        <Card
          className="flex flex-wrap items-center justify-between gap-3 border-amber-700/40"
          data-testid="read-only-note"
        >
          <p className="text-sm text-amber-100">{t('review.readOnly')}</p>
          <div className="flex flex-wrap gap-2">
            {it && <BranchButton iteration={it.index} onBranch={props.onBranch} variant="primary" />}
            <Button size="sm" onClick={props.onShowResult}>
              {t('review.seeResult')}
            </Button>
          </div>
        </Card>
      )}
      {it ? (
        <Card className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
          <IterationImage iteration={it} large />
          <div className="space-y-4">
            <div className="flex items-center justify-between gap-3">
              <h2 className="text-base font-semibold text-zinc-100">{t('image.first')}</h2>
              <ScoreBadge score={it.judge_score} className="text-base" />
            </div>
            {it.status === 'failed' && it.error ? (
              <>
                <ErrorAlert error={describeError(it.error)} />
                <Button onClick={onBackToPrompt}>{t('review.backToPrompt')}</Button>
              </>
            ) : it.judge_score == null && running ? (
              <p className="animate-pulse text-sm text-violet-300">{t('review.judging')}</p>
            ) : (
              <>
                <JudgeNotes iteration={it} />
                <ChecklistTicks
                  iteration={it}
                  checklist={session.checklist ?? []}
                  version={session.checklist_version}
                />
              </>
            )}
          </div>
        </Card>
      ) : (
        running && (
          <Card className="flex aspect-video items-center justify-center">
            <PulsingLogo size="lg" label={t('review.onItsWay')} />
          </Card>
        )
      )}
      {!optimized && it?.status === 'ok' && !running && <ImproveForm {...props} />}
    </div>
  )
}

function ImproveForm({ session, limits, onSession, onBackToPrompt }: Props) {
  const { t } = useTranslation()
  const feedbackKey = draftKeys.feedback(session.session_id)
  const [feedback, setFeedback] = useState(
    () => loadDraft<string>(feedbackKey) ?? session.user_feedback ?? '',
  )
  const run = useRunChoice(session, limits)
  const [checklistDirty, setChecklistDirty] = useState(false)
  const [busy, setBusy] = useState<'accept' | 'improve' | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  useEffect(() => {
    if (feedback !== (session.user_feedback ?? '')) saveDraft(feedbackKey, feedback)
    else clearDraft(feedbackKey)
  }, [feedback, feedbackKey, session.user_feedback])

  const tooLong = feedback.length > limits.max_feedback_chars
  const blocked = tooLong
    ? t('review.feedbackOver', { count: feedback.length - limits.max_feedback_chars })
    : checklistDirty
      ? t('review.checklistDirty')
      : choiceProblem(run.choice, limits)

  const act = async (kind: 'accept' | 'improve') => {
    if (busy || (blocked && kind === 'improve') || tooLong) return
    setBusy(kind)
    setError(null)
    try {
      const saved = await api.feedback(session.session_id, feedback, kind === 'accept')
      onSession(saved)
      clearDraft(feedbackKey)
      if (kind === 'improve') onSession(await api.optimize(session.session_id, run.body()))
    } catch (e) {
      setError(describeError(e))
    } finally {
      setBusy(null)
    }
  }
  useSubmitHotkey(!busy && !blocked ? () => void act('improve') : null)

  return (
    <>
      <Card>
        <ChecklistEditor
          session={session}
          maxItems={limits.max_checklist_items}
          onSession={onSession}
          onDirtyChange={setChecklistDirty}
        />
      </Card>
      <Card className="space-y-5">
        <div>
          <TextAreaField
            label={t('review.feedbackLabel')}
            hint={<CharCount value={feedback} max={limits.max_feedback_chars} />}
            id="feedback"
            rows={3}
            value={feedback}
            aria-invalid={tooLong}
            onChange={(e) => setFeedback(e.target.value)}
            placeholder={t('review.feedbackPlaceholder')}
          />
          {feedback.trim() !== (session.user_feedback ?? '').trim() && feedback.trim() && (
            <p className="mt-1 text-xs text-zinc-400">{t('review.feedbackRewrites')}</p>
          )}
        </div>
        {/* Edit mode is offered here only where the model takes input images (issue 19). */}
        <RunOptions {...run.options} inputImages={run.inputImages || undefined} idPrefix="review" />
        <ErrorAlert error={error} onDismiss={() => setError(null)} />
        <div className="flex flex-wrap items-center justify-end gap-3">
          {blocked && (
            <p className="mr-auto text-sm text-rose-300" data-testid="blocked-reason">
              {blocked}
            </p>
          )}
          {busy && (
            <PulsingLogo size="sm" label={busy === 'accept' ? t('review.wrapping') : t('prompt.starting')} />
          )}
          <Button variant="ghost" onClick={onBackToPrompt} disabled={!!busy}>
            {t('review.editPrompt')}
          </Button>
          <Button onClick={() => void act('accept')} disabled={!!busy || tooLong}>
            {t('review.accept')}
          </Button>
          <span className="hidden text-xs text-zinc-400 sm:inline">{t('common.hotkey')}</span>
          <Button
            variant="primary"
            size="lg"
            onClick={() => void act('improve')}
            disabled={!!busy || !!blocked}
          >
            {t('review.improve')}
          </Button>
        </div>
      </Card>
    </>
  )
}
