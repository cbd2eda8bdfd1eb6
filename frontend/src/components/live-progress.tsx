import { PulsingLogo } from '@/components/pulsing-logo'
import { Button } from '@/components/button'
import { cn } from '@/lib/cn'
import { STEP_LABELS } from '@/lib/flow'
import type { LiveStep } from '@/lib/session-events'
import type { Session, StepName } from '@/lib/types'

interface Props {
  session: Session
  steps: LiveStep[]
  current: { iteration: number; step: StepName } | null
  onCancel?: () => void
  cancelBusy?: boolean
}

const PIPELINES: Record<string, StepName[]> = {
  generate: ['generate', 'judge'],
  optimize: ['revise', 'generate', 'judge'],
  accept: ['recommend'],
}

/** First iteration index of the running run: one past the last iteration saved before it started. */
function runBase(session: Session): number {
  const started = session.run ? Date.parse(session.run.started_at) : NaN
  const before = session.iterations.filter((it) => it.created_at && Date.parse(it.created_at) < started)
  if (session.run?.kind === 'generate') return 0
  return before.length ? Math.max(...before.map((it) => it.index)) + 1 : 1
}

/** Live view of a run: which iteration, which step, the pulsing logo, and Cancel. */
export function LiveProgress({ session, steps, current, onCancel, cancelBusy }: Props) {
  const kind = session.run?.kind ?? 'optimize'
  const pipeline = PIPELINES[kind] ?? PIPELINES.optimize
  const iteration = current?.iteration ?? steps[steps.length - 1]?.iteration ?? runBase(session)
  const total = session.run?.requested_iterations || session.iterations_count
  const position = iteration - runBase(session) + 1
  const label = current ? STEP_LABELS[current.step] : 'Working…'
  const cancelling = session.run?.cancel_requested
  const showRecommend = current?.step === 'recommend' || steps.some((s) => s.step === 'recommend')
  const shown = kind === 'optimize' && showRecommend ? [...pipeline, 'recommend' as StepName] : pipeline

  const statusOf = (step: StepName) => {
    const iter = step === 'recommend' ? undefined : iteration
    return steps.find((s) => s.step === step && (iter === undefined || s.iteration === iter))
  }

  // A page that joins a run late has no step events for what already happened: infer from the
  // step in flight (earlier steps of this iteration are done).
  const inferred = (step: StepName): 'ok' | 'running' | 'pending' => {
    if (!current || (step !== 'recommend' && current.iteration !== iteration)) return 'pending'
    const at = shown.indexOf(current.step)
    const mine = shown.indexOf(step)
    if (at === -1 || mine > at) return 'pending'
    return mine === at ? 'running' : 'ok'
  }

  return (
    <div className="rounded-2xl border border-violet-900/60 bg-violet-950/20 p-4" data-testid="live-progress">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PulsingLogo
          size="md"
          label={
            kind === 'optimize' && current?.step !== 'recommend'
              ? `Iteration ${Math.max(1, position)} of ${total} · ${label}`
              : label
          }
        />
        {onCancel && kind === 'optimize' && (
          <Button variant="danger" size="sm" onClick={onCancel} disabled={cancelBusy || cancelling}>
            {cancelling ? 'Cancelling after this step…' : 'Cancel'}
          </Button>
        )}
      </div>
      <ol className="mt-4 flex flex-wrap gap-2" aria-label="Steps of this iteration">
        {shown.map((step) => {
          const s = statusOf(step)
          const status = s?.status ?? inferred(step)
          return (
            <li
              key={step}
              data-step={step}
              data-status={status}
              className={cn(
                'flex items-center gap-2 rounded-full border px-3 py-1 text-xs',
                status === 'running' && 'animate-pulse border-violet-400 text-violet-100',
                status === 'ok' && 'border-emerald-700 text-emerald-200',
                status === 'failed' && 'border-rose-700 text-rose-200',
                status === 'pending' && 'border-zinc-700 text-zinc-500',
              )}
            >
              <span aria-hidden>
                {status === 'ok' ? '✓' : status === 'failed' ? '✕' : status === 'running' ? '●' : '○'}
              </span>
              {STEP_LABELS[step]}
              {s?.durationMs != null && (
                <span className="text-zinc-500">{(s.durationMs / 1000).toFixed(1)} s</span>
              )}
            </li>
          )
        })}
      </ol>
    </div>
  )
}
