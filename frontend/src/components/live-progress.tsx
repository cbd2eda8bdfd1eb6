import { t } from '@/i18n'
import { useEffect, useMemo, useState } from 'react'

import { Button } from '@/components/button'
import { PulsingLogo } from '@/components/pulsing-logo'
import { cn } from '@/lib/cn'
import { formatCost, formatUsd, iterationsBeforeRun, roundBeforeRun, STEP_LABELS } from '@/lib/flow'
import { currentStep, stepOf } from '@/lib/session-events'
import type { CurrentStep, Iteration, Session } from '@/lib/types'

interface Props {
  session: Session
  onCancel?: () => void
  cancelBusy?: boolean
}

type SlotState = 'done' | 'failed' | 'judging' | 'current' | 'pending'

interface Slot {
  round: number // 1-based within this run (0 for the first image)
  candidate: number
  iteration: Iteration | null
  state: SlotState
  step: CurrentStep['step'] | null
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN)

/** The run in flight: its planned slots (rounds x candidates, filled as iterations arrive) and newest image. */
function planSlots(session: Session): { slots: Slot[]; newest: Iteration | undefined } {
  const run = session.run
  const earlier = iterationsBeforeRun(session)
  const mine = session.iterations.filter((it) => !earlier.includes(it))
  const newest = [...mine].reverse().find((it) => it.image_url)
  const stateOf = (it: Iteration | null, step: CurrentStep | null): SlotState => {
    if (it?.status === 'failed') return 'failed'
    if (it && it.judge_score != null) return 'done'
    if (it) return 'judging'
    if (step) return 'current'
    return 'pending'
  }
  if (!run || run.kind !== 'optimize') {
    const it = session.iterations.find((x) => x.index === 0) ?? null
    const step = stepOf(session, 0)
    const slots = [
      { round: 0, candidate: 0, iteration: it, state: stateOf(it, step), step: step?.step ?? null },
    ]
    return { slots, newest }
  }
  const baseRound = roundBeforeRun(session)
  const rounds = run.requested_iterations || session.iterations_count
  const k = run.candidates ?? 1
  const slots: Slot[] = []
  for (let r = 1; r <= rounds; r++) {
    for (let c = 0; c < k; c++) {
      const it = mine.find((x) => (x.round ?? x.index) === baseRound + r && (x.candidate ?? 0) === c) ?? null
      // A slot not saved yet: the steps in flight name its round and candidate (candidates run together).
      const step =
        (it ? stepOf(session, it.index) : null) ??
        session.in_flight.find((s) => s.round === baseRound + r && s.candidate === c) ??
        null
      slots.push({
        round: r,
        candidate: c,
        iteration: it,
        state: stateOf(it, step),
        step: step?.step ?? null,
      })
    }
  }
  // Nothing in flight yet (between steps): the first open slot is current.
  if (!slots.some((s) => s.state === 'current' || s.state === 'judging')) {
    const open = slots.find((s) => s.state === 'pending')
    if (open) open.state = 'current'
  }
  return { slots, newest }
}

/** The clock, ticking each second while `active` (a hidden tab skips the ticks: nothing to redraw). */
function useNow(active: boolean) {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!active) return
    const t = setInterval(() => document.visibilityState !== 'hidden' && setNow(Date.now()), 1000)
    return () => clearInterval(t)
  }, [active])
  return now
}

const seconds = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000))
  return s < 60
    ? t('progress.sec', { s })
    : t('progress.minSec', { m: Math.floor(s / 60), s: String(s % 60).padStart(2, '0') })
}

/** Live view of a run: planned slots, the one in flight, overall progress, time, cost and Cancel. */
export function LiveProgress({ session, onCancel, cancelBusy }: Props) {
  const current = currentStep(session)
  const run = session.run
  const kind = run?.kind ?? 'optimize'
  const now = useNow(session.status === 'running')
  // Planned once per snapshot, not on every tick of the clock.
  const { slots, newest } = useMemo(() => planSlots(session), [session])
  const finished = slots.filter((s) => s.state === 'done' || s.state === 'failed').length
  const total = slots.length
  const elapsed = now - (time(run?.started_at) || now)
  const remaining = finished > 0 ? (elapsed / finished) * (total - finished) : null
  const active = slots.find((s) => s.state === 'current' || s.state === 'judging')
  const rounds = run?.requested_iterations || session.iterations_count
  const k = run?.candidates ?? 1
  const stepLabel = current
    ? STEP_LABELS[current.step]
    : active?.step
      ? STEP_LABELS[active.step]
      : t('progress.working')
  const cancelling = run?.cancel_requested
  const spent = session.cost_usd ?? run?.spent_usd ?? 0
  const headline =
    kind === 'optimize' && active
      ? [
          t('progress.round', { n: active.round, of: rounds }),
          ...(k > 1 ? [t('progress.candidate', { n: active.candidate + 1, of: k })] : []),
          stepLabel,
        ].join(' · ')
      : stepLabel

  return (
    <section
      className="space-y-4 rounded-2xl border border-violet-900/60 bg-violet-950/20 p-4"
      data-testid="live-progress"
      aria-label={t('progress.label')}
    >
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PulsingLogo size="md" label={headline} />
        {onCancel && kind === 'optimize' && (
          <Button variant="danger" size="sm" onClick={onCancel} disabled={cancelBusy || cancelling}>
            {cancelling ? t('progress.cancelling') : t('progress.cancel')}
          </Button>
        )}
      </div>
      <div>
        <div
          className="h-2 overflow-hidden rounded-full bg-zinc-800"
          role="progressbar"
          aria-label={t('progress.overall')}
          aria-valuemin={0}
          aria-valuemax={total}
          aria-valuenow={finished}
        >
          <div
            className="h-full rounded-full bg-gradient-to-r from-violet-500 to-fuchsia-500 transition-all"
            style={{ width: `${total ? Math.max(3, (finished / total) * 100) : 0}%` }}
          />
        </div>
        <p className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-zinc-300" data-testid="progress-times">
          <span>{t('progress.imagesDone', { count: total, done: finished })}</span>
          <span>{t('progress.elapsed', { time: seconds(elapsed) })}</span>
          <span>
            {remaining != null ? t('progress.left', { time: seconds(remaining) }) : t('progress.estimating')}
          </span>
          <span data-testid="cost-meter">
            {t('progress.cost', {
              usd: formatCost(spent, session.demo ?? false),
            })}
            {!session.demo &&
              run?.estimate_usd != null &&
              t('progress.ofEstimate', { usd: formatUsd(run.estimate_usd) })}
            {run?.budget_usd != null && t('progress.budget', { usd: formatUsd(run.budget_usd) })}
          </span>
        </p>
      </div>
      <div className="flex flex-wrap items-start gap-4">
        <ol className="flex flex-1 flex-wrap gap-2" aria-label={t('progress.planned')} data-testid="slots">
          {slots.map((s) => (
            <li
              key={`${s.round}-${s.candidate}`}
              data-state={s.state}
              data-round={s.round}
              aria-current={s.state === 'current' || s.state === 'judging' ? 'step' : undefined}
              className={cn(
                'flex min-w-24 flex-col rounded-lg border px-2 py-1 text-xs',
                s.state === 'done' && 'border-emerald-700 text-emerald-100',
                s.state === 'failed' && 'border-rose-700 text-rose-200',
                (s.state === 'current' || s.state === 'judging') &&
                  'animate-pulse border-violet-400 text-violet-100',
                s.state === 'pending' && 'border-zinc-700 text-zinc-400',
              )}
            >
              <span className="font-medium">
                {kind === 'optimize'
                  ? t(k > 1 ? 'progress.slotRC' : 'progress.slotR', { r: s.round, c: s.candidate + 1 })
                  : t('image.first')}
              </span>
              <span>
                {s.state === 'done'
                  ? `${s.iteration?.judge_score}/100`
                  : s.state === 'failed'
                    ? t('progress.slot.failed')
                    : s.state === 'judging'
                      ? t('progress.slot.judging')
                      : s.state === 'current'
                        ? t('progress.slot.current')
                        : t('progress.slot.planned')}
              </span>
            </li>
          ))}
        </ol>
        {newest?.image_url && (
          <figure className="w-28 shrink-0 sm:w-36" data-testid="newest-image">
            <img
              src={newest.thumbnail_url ?? newest.image_url}
              alt=""
              className="aspect-square w-full rounded-lg border border-zinc-700 object-cover"
            />
            <figcaption className="mt-1 text-xs text-zinc-300">
              {t('progress.newest', { n: newest.index })}
              {newest.judge_score != null ? ` · ${newest.judge_score}` : ` · ${t('progress.judging')}`}
            </figcaption>
          </figure>
        )}
      </div>
      {kind === 'optimize' && (
        <p className="text-xs text-zinc-400">
          {t('progress.plan', {
            rounds: t('count.rounds', { count: rounds }),
            candidates: t('count.candidates', { count: k }),
            target: run?.target_score ?? session.target_score,
          })}
          {run?.plateau_rounds ? t('progress.planPlateau', { count: run.plateau_rounds }) : ''}
          {run?.budget_usd != null ? t('progress.planBudget') : ''}
          {t('progress.planEnd')}
        </p>
      )}
    </section>
  )
}
