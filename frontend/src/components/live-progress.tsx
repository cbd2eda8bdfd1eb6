import { useEffect, useMemo, useState } from 'react'

import { Button } from '@/components/button'
import { PulsingLogo } from '@/components/pulsing-logo'
import { cn } from '@/lib/cn'
import { formatUsd, iterationsBeforeRun, roundBeforeRun, STEP_LABELS } from '@/lib/flow'
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
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
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
  const stepLabel = current ? STEP_LABELS[current.step] : active?.step ? STEP_LABELS[active.step] : 'Working…'
  const cancelling = run?.cancel_requested
  const spent = session.cost_usd ?? run?.spent_usd ?? 0
  const headline =
    kind === 'optimize' && active
      ? `Round ${active.round} of ${rounds}${k > 1 ? ` · candidate ${active.candidate + 1} of ${k}` : ''} · ${stepLabel}`
      : stepLabel

  return (
    <section
      className="space-y-4 rounded-2xl border border-violet-900/60 bg-violet-950/20 p-4"
      data-testid="live-progress"
      aria-label="Run progress"
    >
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PulsingLogo size="md" label={headline} />
        {onCancel && kind === 'optimize' && (
          <Button variant="danger" size="sm" onClick={onCancel} disabled={cancelBusy || cancelling}>
            {cancelling ? 'Cancelling after this step…' : 'Cancel'}
          </Button>
        )}
      </div>
      <div>
        <div
          className="h-2 overflow-hidden rounded-full bg-zinc-800"
          role="progressbar"
          aria-label="Overall progress"
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
          <span>
            {finished} of {total} image{total === 1 ? '' : 's'} done
          </span>
          <span>elapsed {seconds(elapsed)}</span>
          <span>
            {remaining != null ? `about ${seconds(remaining)} left at most` : 'estimating time left…'}
          </span>
          <span data-testid="cost-meter">
            cost so far {session.demo ? '$0 (demo)' : formatUsd(spent)}
            {!session.demo && run?.estimate_usd != null && ` of ≈ ${formatUsd(run.estimate_usd)} estimated`}
            {run?.budget_usd != null && ` · budget ${formatUsd(run.budget_usd)}`}
          </span>
        </p>
      </div>
      <div className="flex flex-wrap items-start gap-4">
        <ol className="flex flex-1 flex-wrap gap-2" aria-label="Planned images" data-testid="slots">
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
                {kind === 'optimize' ? `R${s.round}${k > 1 ? ` · C${s.candidate + 1}` : ''}` : 'First image'}
              </span>
              <span>
                {s.state === 'done'
                  ? `${s.iteration?.judge_score}/100`
                  : s.state === 'failed'
                    ? 'failed'
                    : s.state === 'judging'
                      ? 'current · judging'
                      : s.state === 'current'
                        ? 'current'
                        : 'planned'}
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
              Newest #{newest.index}
              {newest.judge_score != null ? ` · ${newest.judge_score}` : ' · judging'}
            </figcaption>
          </figure>
        )}
      </div>
      {kind === 'optimize' && (
        <p className="text-xs text-zinc-400">
          Planned: {rounds} round{rounds === 1 ? '' : 's'} × {k} candidate{k === 1 ? '' : 's'}. The run may
          stop earlier (target score {run?.target_score ?? session.target_score}
          {run?.plateau_rounds ? `, ${run.plateau_rounds} rounds without improvement` : ''}
          {run?.budget_usd != null ? ', budget' : ''}).
        </p>
      )}
    </section>
  )
}
