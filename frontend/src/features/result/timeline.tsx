import star from '../../../../assets/star.png'
import { ErrorAlert } from '@/components/error-alert'
import { IterationImage } from '@/components/iteration-image'
import { JudgeNotes } from '@/components/judge-notes'
import { PulsingLogo } from '@/components/pulsing-logo'
import { ScoreBadge } from '@/components/status-badge'
import { describeError } from '@/lib/api-client'
import { cn } from '@/lib/cn'
import { blockLabel } from '@/lib/flex'
import { STEP_LABELS } from '@/lib/flow'
import type { Iteration, StepName } from '@/lib/types'

interface Props {
  iterations: Iteration[]
  bestIndex: number | null
  lastIndex: number | null
  /** The iteration being made right now, shown as a placeholder until its image arrives. */
  pending?: { iteration: number; step: StepName } | null
}

/** Every iteration first -> final: image, score, what changed, the judge's notes, failures too. */
export function Timeline({ iterations, bestIndex, lastIndex, pending }: Props) {
  const showPending =
    pending && pending.step !== 'recommend' && !iterations.some((it) => it.index === pending.iteration)
  return (
    <ol className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3" data-testid="timeline">
      {iterations.map((it) => {
        const best = it.index === bestIndex
        return (
          <li
            key={it.index}
            data-index={it.index}
            data-best={best}
            data-status={it.status}
            className={cn(
              'relative space-y-3 rounded-xl border bg-zinc-950/60 p-3',
              best ? 'border-amber-400/70 shadow-lg shadow-amber-500/10' : 'border-zinc-800',
              it.status === 'failed' && 'border-rose-900',
            )}
          >
            {best && (
              <img src={star} alt="" className="pointer-events-none absolute -top-4 -right-3 size-10" />
            )}
            <div className="flex items-center justify-between gap-2 text-sm">
              <span className="font-medium text-zinc-100">
                {it.index === 0 ? 'First image' : `Iteration ${it.index}`}
                {it.index === lastIndex && it.index !== 0 && (
                  <span className="ml-1 text-zinc-500">(final)</span>
                )}
              </span>
              <div className="flex items-center gap-2">
                {best && (
                  <span className="rounded-full bg-amber-500/20 px-2 py-0.5 text-xs font-medium text-amber-200">
                    Best
                  </span>
                )}
                <ScoreBadge score={it.judge_score} />
              </div>
            </div>
            <IterationImage iteration={it} thumb />
            {it.status === 'failed' && it.error && <ErrorAlert error={describeError(it.error)} />}
            {it.prompt_diff && <p className="text-xs text-zinc-400">{it.prompt_diff}</p>}
            {it.based_on != null && <p className="text-xs text-zinc-500">Revised from #{it.based_on}</p>}
            {it.changed_blocks.length > 0 && (
              <div className="flex flex-wrap gap-1">
                {it.changed_blocks.map((b) => (
                  <span key={b} className="rounded bg-zinc-800 px-1.5 py-0.5 text-[11px] text-zinc-300">
                    {blockLabel(b)}
                  </span>
                ))}
              </div>
            )}
            {it.status === 'ok' && it.judge_score == null && (
              <p className="animate-pulse text-xs text-violet-300">Judging…</p>
            )}
            {it.status === 'ok' && it.judge_score != null && (
              <details className="text-sm">
                <summary className="cursor-pointer text-zinc-400 hover:text-zinc-200">Judge notes</summary>
                <div className="mt-2">
                  <JudgeNotes iteration={it} />
                </div>
              </details>
            )}
          </li>
        )
      })}
      {showPending && (
        <li
          data-pending={pending.iteration}
          className="flex min-h-64 flex-col items-center justify-center gap-3 rounded-xl border border-dashed border-violet-800/70 p-3"
        >
          <span className="text-sm text-zinc-300">Iteration {pending.iteration}</span>
          <PulsingLogo size="lg" />
          <span className="text-xs text-zinc-400">{STEP_LABELS[pending.step]}…</span>
        </li>
      )}
    </ol>
  )
}
