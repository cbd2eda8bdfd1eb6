import { useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount, FieldLabel, IterationsSlider, TextArea } from '@/components/field'
import { IterationImage } from '@/components/iteration-image'
import { JudgeNotes } from '@/components/judge-notes'
import { LiveProgress } from '@/components/live-progress'
import { PulsingLogo } from '@/components/pulsing-logo'
import { ScoreBadge } from '@/components/status-badge'
import { useSubmitHotkey } from '@/hooks/use-submit-hotkey'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { latestIteration } from '@/lib/flow'
import type { LiveStep } from '@/lib/session-events'
import type { Limits, Session, StepName } from '@/lib/types'

interface Props {
  session: Session
  steps: LiveStep[]
  current: { iteration: number; step: StepName } | null
  limits: Limits
  onSession: (session: Session) => void
  onBackToPrompt: () => void
}

/** Step 3: the first image large with its score and notes; accept it or ask for improvements. */
export default function ReviewStep({ session, steps, current, limits, onSession, onBackToPrompt }: Props) {
  const [feedback, setFeedback] = useState(session.user_feedback ?? '')
  const [iterations, setIterations] = useState(
    Math.min(limits.max_iterations, Math.max(1, session.iterations_count || limits.max_iterations_default)),
  )
  const [busy, setBusy] = useState<'accept' | 'improve' | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  const running = session.status === 'running'
  const it = latestIteration(session)
  const usable = !!it && it.status === 'ok'

  const act = async (kind: 'accept' | 'improve') => {
    if (busy || running || !usable) return
    setBusy(kind)
    setError(null)
    try {
      const saved = await api.feedback(session.session_id, feedback, kind === 'accept')
      onSession(saved)
      if (kind === 'improve') onSession(await api.optimize(session.session_id, iterations))
    } catch (e) {
      setError(describeError(e))
    } finally {
      setBusy(null)
    }
  }
  useSubmitHotkey(!busy && !running && usable ? () => void act('improve') : null)

  return (
    <div className="space-y-5">
      {running && <LiveProgress session={session} steps={steps} current={current} />}
      {session.status === 'failed' && session.error && !it && (
        <ErrorAlert error={describeError(session.error)} />
      )}
      {it ? (
        <Card className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
          <IterationImage iteration={it} large />
          <div className="space-y-4">
            <div className="flex items-center justify-between gap-3">
              <h2 className="text-base font-semibold text-zinc-100">First image</h2>
              <ScoreBadge score={it.judge_score} className="text-base" />
            </div>
            {it.status === 'failed' && it.error ? (
              <>
                <ErrorAlert error={describeError(it.error)} />
                <Button onClick={onBackToPrompt}>Back to the prompt</Button>
              </>
            ) : it.judge_score == null && running ? (
              <p className="animate-pulse text-sm text-violet-300">The judge is looking at it…</p>
            ) : (
              <JudgeNotes iteration={it} />
            )}
          </div>
        </Card>
      ) : (
        running && (
          <Card className="flex aspect-video items-center justify-center">
            <PulsingLogo size="lg" label="Your first image is on its way…" />
          </Card>
        )
      )}

      {usable && !running && (
        <Card className="space-y-4">
          <div>
            <FieldLabel
              htmlFor="feedback"
              hint={<CharCount value={feedback} max={limits.max_feedback_chars} />}
            >
              What should change? (optional)
            </FieldLabel>
            <TextArea
              id="feedback"
              rows={3}
              value={feedback}
              onChange={(e) => setFeedback(e.target.value)}
              placeholder="e.g. warmer light, the fox should face the camera, less clutter in the background"
            />
          </div>
          <IterationsSlider
            id="review-iterations"
            label="Iterations to run"
            max={limits.max_iterations}
            value={iterations}
            onChange={setIterations}
          />
          <ErrorAlert error={error} onDismiss={() => setError(null)} />
          <div className="flex flex-wrap items-center justify-end gap-3">
            {busy && <PulsingLogo size="sm" label={busy === 'accept' ? 'Wrapping up…' : 'Starting…'} />}
            <Button variant="ghost" onClick={onBackToPrompt} disabled={!!busy}>
              Edit prompt
            </Button>
            <Button onClick={() => void act('accept')} disabled={!!busy}>
              Accept
            </Button>
            <span className="hidden text-xs text-zinc-500 sm:inline">Ctrl/⌘ + Enter</span>
            <Button variant="primary" size="lg" onClick={() => void act('improve')} disabled={!!busy}>
              Improve
            </Button>
          </div>
        </Card>
      )}
    </div>
  )
}
