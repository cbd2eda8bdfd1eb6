import { useTranslation } from '@/i18n/react'
import { useState } from 'react'

import { Card } from '@/components/card'
import { Disclosure } from '@/components/disclosure'
import { ErrorAlert } from '@/components/error-alert'
import { Lightbox } from '@/components/lightbox'
import { LiveProgress } from '@/components/live-progress'
import { PulsingLogo } from '@/components/pulsing-logo'
import { useInputImages } from '@/components/reference-capacity'
import type { BranchFn } from '@/features/run/branch-button'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { bestIteration, firstIteration, roundBeforeRun, stopReasonText } from '@/lib/flow'
import { currentStep } from '@/lib/session-events'
import type { Limits, Session } from '@/lib/types'

import { Compare } from './compare'
import { Hero } from './hero'
import { KeepImproving } from './keep-improving'
import { ScoreChart } from './score-chart'
import { Timeline } from './timeline'

interface Props {
  session: Session
  limits: Limits
  onSession: (session: Session) => void
  onBranch: BranchFn
}

function Section({ title, children, id }: { title: string; children: React.ReactNode; id: string }) {
  return (
    <Card aria-labelledby={id}>
      <h2 id={id} className="mb-4 text-base font-semibold text-zinc-100">
        {title}
      </h2>
      {children}
    </Card>
  )
}

function Recommendations({ session }: { session: Session }) {
  const { t } = useTranslation()
  const status = session.recommendations_status ?? (session.recommendations.length ? 'ready' : 'none')
  if (session.status === 'running' || status === 'none') return null
  return (
    <Section title={t('result.recommendations')} id="recommendations-title">
      {status === 'pending' ? (
        <PulsingLogo size="sm" label={`${t('step.recommend')}…`} />
      ) : status === 'failed' ? (
        <p className="text-sm text-zinc-300" data-testid="recommendations-failed">
          {t('result.recommendationsFailed')}
        </p>
      ) : (
        <ul className="list-inside list-disc space-y-1 text-sm text-zinc-200" data-testid="recommendations">
          {session.recommendations.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
    </Section>
  )
}

/** Step 4: the answer first (before/after, prompt, download, cost), then how it got there. */
export default function ResultStep({ session, limits, onSession, onBranch }: Props) {
  const { t } = useTranslation()
  const current = currentStep(session)
  const [cancelBusy, setCancelBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
  const [open, setOpen] = useState<number | null>(null)
  const running = session.status === 'running'
  const best = bestIteration(session)
  const first = firstIteration(session)
  const bestIndex = session.best_index ?? best?.index ?? null
  const inputImages = useInputImages(session)
  const failedCount = session.iterations.filter((it) => it.status === 'failed').length
  const stop = running ? null : stopReasonText(session.run)
  // While a run goes on, the chart's x-axis shows every planned round from the start.
  const plannedRounds =
    running && session.run?.kind === 'optimize'
      ? roundBeforeRun(session) + session.run.requested_iterations
      : undefined

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
      {stop && (
        <p data-testid="stop-reason" className="text-sm text-zinc-200">
          <span className="font-medium text-white">{stop}</span>
          {best?.judge_score != null && t('result.bestLine', { n: best.index, score: best.judge_score })}
          {failedCount > 0 && t('result.failedLine', { count: failedCount })}
          {session.recommendations_status === 'pending' && (
            <span className="ml-2 animate-pulse text-violet-300" data-testid="recommendations-pending">
              {t('step.recommend')}…
            </span>
          )}
        </p>
      )}
      {running && <LiveProgress session={session} onCancel={() => void cancel()} cancelBusy={cancelBusy} />}
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      {session.status === 'failed' && session.error && (
        <div className="space-y-2">
          <ErrorAlert error={describeError(session.error)} />
          <p className="text-sm text-zinc-300">
            {t('result.kept', { iterations: t('count.iterations', { count: session.iterations.length }) })}
            {best ? t('result.keptBest', { score: best.judge_score, n: best.index }) : ''}
            {t('result.keptEnd')}
          </p>
        </div>
      )}

      {(best || first) && <Hero session={session} first={first} best={best} onOpen={setOpen} />}

      <Recommendations session={session} />

      {session.iterations.length > 0 && (
        <Section title={t('result.chart')} id="chart-title">
          <ScoreChart
            iterations={session.iterations}
            bestIndex={bestIndex}
            target={session.target_score}
            plannedRounds={plannedRounds}
          />
        </Section>
      )}

      <Section title={t('result.timeline')} id="timeline-title">
        {session.iterations.length ? (
          <Timeline
            iterations={session.iterations}
            bestIndex={bestIndex}
            checklist={session.checklist ?? []}
            checklistVersion={session.checklist_version}
            pending={running ? current : null}
            onOpen={setOpen}
            onBranch={onBranch}
            edit={
              inputImages
                ? {
                    sessionId: session.session_id,
                    maxChars: limits.max_feedback_chars,
                    disabled: running,
                    onSession,
                  }
                : null
            }
          />
        ) : (
          <p className="text-sm text-zinc-300">{t('result.noImages')}</p>
        )}
      </Section>

      {session.iterations.length > 1 && (
        // A tool for digging in, not part of the answer: one click away.
        <Card aria-labelledby="compare-title">
          <Disclosure
            summary={
              <h2 id="compare-title" className="text-base font-semibold text-zinc-100">
                {t('result.compare')}
              </h2>
            }
          >
            <Compare key={bestIndex ?? -1} iterations={session.iterations} bestIndex={bestIndex} />
          </Disclosure>
        </Card>
      )}

      {!running && session.iterations.some((it) => it.status === 'ok') && (
        <KeepImproving session={session} limits={limits} onSession={onSession} />
      )}

      {open != null && (
        <Lightbox
          iterations={session.iterations}
          index={open}
          sessionId={session.session_id}
          onIndex={setOpen}
          onClose={() => setOpen(null)}
        />
      )}
    </div>
  )
}
