import { useState } from 'react'

import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { LiveProgress } from '@/components/live-progress'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { bestIteration, STOP_REASON_TEXT } from '@/lib/flow'
import type { LiveStep } from '@/lib/session-events'
import type { Session, StepName } from '@/lib/types'

import { Compare } from './compare'
import { FinalPrompt } from './final-prompt'
import { KeepImproving } from './keep-improving'
import { ScoreChart } from './score-chart'
import { Timeline } from './timeline'

interface Props {
  session: Session
  steps: LiveStep[]
  current: { iteration: number; step: StepName } | null
  maxIterations?: number
  onSession: (session: Session) => void
}

function Section({ title, children, id }: { title: string; children: React.ReactNode; id?: string }) {
  return (
    <Card aria-labelledby={id}>
      <h2 id={id} className="mb-4 text-base font-semibold text-zinc-100">
        {title}
      </h2>
      {children}
    </Card>
  )
}

/** Step 4: live progress while optimizing, then chart, timeline, compare, final prompt and download. */
export default function ResultStep({ session, steps, current, maxIterations = 10, onSession }: Props) {
  const [cancelBusy, setCancelBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
  const running = session.status === 'running'
  const best = bestIteration(session)
  const bestIndex = session.best_index ?? best?.index ?? null
  const lastIndex = session.iterations.length ? session.iterations[session.iterations.length - 1].index : null
  const finalPrompt = running ? null : (session.final_prompt_text ?? best?.prompt_text ?? null)
  const failedCount = session.iterations.filter((it) => it.status === 'failed').length

  const cancel = async () => {
    setCancelBusy(true)
    setError(null)
    try {
      onSession(await api.cancel(session.session_id))
    } catch (e) {
      setError(describeError(e))
    } finally {
      setCancelBusy(false)
    }
  }

  return (
    <div className="space-y-5">
      {running && (
        <LiveProgress
          session={session}
          steps={steps}
          current={current}
          onCancel={() => void cancel()}
          cancelBusy={cancelBusy}
        />
      )}
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      {!running && session.run?.stop_reason && (
        <p data-testid="stop-reason" className="text-sm text-zinc-300">
          {STOP_REASON_TEXT[session.run.stop_reason] ?? session.run.stop_reason}
          {best && ` Best: iteration #${best.index} with ${best.judge_score}/100.`}
          {failedCount > 0 && ` ${failedCount} iteration${failedCount > 1 ? 's' : ''} failed (shown below).`}
        </p>
      )}
      {session.status === 'failed' && session.error && (
        <div className="space-y-2">
          <ErrorAlert error={describeError(session.error)} />
          <p className="text-sm text-zinc-400">
            Kept: {session.iterations.length} iteration{session.iterations.length === 1 ? '' : 's'}
            {best ? `, best score ${best.judge_score}/100 (#${best.index})` : ''}. You can still download
            them.
          </p>
        </div>
      )}

      {session.iterations.length > 0 && (
        <Section title="Score by iteration">
          <ScoreChart iterations={session.iterations} bestIndex={bestIndex} target={session.target_score} />
        </Section>
      )}

      <Section title="Every image, first to final">
        {session.iterations.length ? (
          <Timeline
            iterations={session.iterations}
            bestIndex={bestIndex}
            lastIndex={lastIndex}
            pending={running ? current : null}
          />
        ) : (
          <p className="text-sm text-zinc-400">No images yet.</p>
        )}
      </Section>

      {session.iterations.length > 1 && (
        <Section title="Compare two iterations">
          <Compare key={bestIndex ?? -1} iterations={session.iterations} bestIndex={bestIndex} />
        </Section>
      )}

      {finalPrompt && (
        <Section title={best ? `Final prompt (from iteration #${best.index})` : 'Final prompt'}>
          <FinalPrompt text={finalPrompt} />
        </Section>
      )}

      {!running && session.recommendations.length > 0 && (
        <Section title="What worked">
          <ul className="list-inside list-disc space-y-1 text-sm text-zinc-200" data-testid="recommendations">
            {session.recommendations.map((r, i) => (
              <li key={i}>{r}</li>
            ))}
          </ul>
        </Section>
      )}

      {!running && session.iterations.some((it) => it.status === 'ok') && (
        <KeepImproving session={session} maxIterations={maxIterations} onSession={onSession} />
      )}

      {!running && (
        <div className="flex flex-wrap items-center justify-end gap-3">
          <a
            href={api.downloadUrl(session.session_id)}
            download
            className="inline-flex h-12 items-center gap-2 rounded-lg bg-gradient-to-r from-violet-500 to-fuchsia-500 px-6 font-medium text-white hover:from-violet-400 hover:to-fuchsia-400"
          >
            Download session (.zip)
          </a>
        </div>
      )}
    </div>
  )
}
