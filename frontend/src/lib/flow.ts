// Which of the four steps a session is at, and small read-outs of its state.
import type { Iteration, RunInfo, Session, StepName } from './types'
import { formatMoney, formatNumber, t } from '@/i18n'

export const STAGES = ['describe', 'prompt', 'review', 'result'] as const
export type Stage = (typeof STAGES)[number]

/** An object whose values are looked up in the catalogue each time they are read (the language may change). */
function translated<K extends string>(keys: readonly K[], prefix: string): Record<K, string> {
  const out = {} as Record<K, string>
  for (const key of keys)
    Object.defineProperty(out, key, { enumerable: true, get: () => t(`${prefix}.${key}`) })
  return out
}

export const STAGE_LABELS: Record<Stage, string> = translated(STAGES, 'stage')

const STEP_NAMES = [
  'prompt_gen',
  'checklist',
  'rejudge',
  'revise',
  'generate',
  'judge',
  'pairwise',
  'recommend',
] as const satisfies readonly StepName[]

export const STEP_LABELS: Record<StepName, string> = translated(STEP_NAMES, 'step')

/** True once the session has moved past a single reviewed image (optimized or accepted). */
export function hasOptimized(s: Session): boolean {
  return s.accepted || s.iterations.length > 1 || s.run?.kind === 'optimize' || s.run?.kind === 'accept'
}

export function stageOf(s: Session | null): Stage {
  if (!s) return 'describe'
  if (s.status === 'running' && s.run?.kind === 'generate') return 'review'
  if (hasOptimized(s)) return 'result'
  if (s.iterations.length === 0) return 'prompt'
  return 'review'
}

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage)
}

/** The prompt may be edited and iteration 0 regenerated until an optimize run has happened. */
export function canEditPrompt(s: Session): boolean {
  return s.status !== 'running' && !hasOptimized(s)
}

export function latestIteration(s: Session): Iteration | null {
  return s.iterations.length ? s.iterations[s.iterations.length - 1] : null
}

export function bestIteration(s: Session): Iteration | null {
  if (s.best_index != null) return s.iterations.find((it) => it.index === s.best_index) ?? null
  let best: Iteration | null = null
  for (const it of s.iterations) {
    if (
      it.status === 'ok' &&
      it.judge_score != null &&
      (!best || it.judge_score > (best.judge_score ?? -1))
    ) {
      best = it
    }
  }
  return best
}

const STOP_REASONS = [
  'completed',
  'target_reached',
  'plateau',
  'budget',
  'cancelled',
  'error',
  'interrupted',
  'accepted',
] as const

export const STOP_REASON_TEXT: Record<string, string> = translated(STOP_REASONS, 'stop')

/** The stop reason in plain words, with the run's own numbers where they matter. */
export function stopReasonText(run: RunInfo | null | undefined): string | null {
  if (!run?.stop_reason) return null
  const rounds = run.rounds_done
  switch (run.stop_reason) {
    case 'plateau':
      return t('stop.plateauN', { count: run.plateau_rounds ?? run.rounds_without_win ?? 2 })
    case 'budget':
      return run.budget_usd != null
        ? t('stop.budgetOf', { usd: formatUsd(run.budget_usd) })
        : STOP_REASON_TEXT.budget
    case 'target_reached':
      return run.target_score != null
        ? t('stop.targetOf', { score: run.target_score })
        : STOP_REASON_TEXT.target_reached
    case 'completed':
      return rounds != null && run.kind === 'optimize'
        ? t('stop.completedN', { count: rounds })
        : STOP_REASON_TEXT.completed
    default:
      return STOP_REASON_TEXT[run.stop_reason] ?? run.stop_reason
  }
}

/** "$0.00", "$0.053", "$1.20" ("0,053 $" in Russian): cents, a third digit for sub-cent figures. */
export function formatUsd(usd: number | null | undefined): string {
  if (usd == null || !Number.isFinite(usd)) return '—'
  if (usd === 0) return formatMoney(0, 0)
  return formatMoney(usd, Math.abs(usd) < 0.1 ? 3 : 2)
}

/** What something cost: `formatUsd`, or "$0 (demo)" where the offline stand-ins made it (it cost
 * nothing, and a figure would look like a real price). */
export function formatCost(usd: number | null | undefined, demo: boolean): string {
  return demo ? t('progress.demoCost', { usd: formatUsd(0) }) : formatUsd(usd)
}

/** A single edit made outside any run ("Edit this image"): its round is 0, as the first image's. */
export const isSingleEdit = (it: Iteration): boolean => it.edited_from != null && (it.round ?? 0) === 0

/** The first judged image (the baseline of the optimize loop). */
export function firstIteration(s: Session): Iteration | null {
  return s.iterations.find((it) => it.index === 0) ?? s.iterations[0] ?? null
}

/** Iterations grouped by optimize round (round 0 is the first image). */
export function byRound(iterations: Iteration[]): { round: number; items: Iteration[] }[] {
  const groups = new Map<number, Iteration[]>()
  for (const it of iterations) {
    const round = it.round ?? it.index
    if (!groups.has(round)) groups.set(round, [])
    groups.get(round)!.push(it)
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, items]) => ({
      round,
      items: items.sort((a, b) => (a.candidate ?? 0) - (b.candidate ?? 0)),
    }))
}

/** The prompt as the provider received it (the final one, else the best iteration's), or null. */
export function renderedPromptOf(s: Session, best: Iteration | null): string | null {
  return s.final_prompt_rendered ?? best?.rendered_prompt ?? null
}

/** Iterations saved before the session's current run started (none when no run is recorded). */
export function iterationsBeforeRun(s: Session): Iteration[] {
  const started = s.run?.started_at ? Date.parse(s.run.started_at) : NaN
  return s.iterations.filter((it) => it.created_at && Date.parse(it.created_at) < started)
}

/** The last round reached before the current run: the run's rounds are numbered after it. */
export function roundBeforeRun(s: Session): number {
  return Math.max(0, ...iterationsBeforeRun(s).map((it) => it.round ?? it.index))
}

export const percent = (x: number | null | undefined) =>
  x == null ? '—' : formatNumber(x, { style: 'percent', maximumFractionDigits: 0 })
