// Which of the four steps a session is at, and small read-outs of its state.
import type { Iteration, Session, StepName } from './types'

export const STAGES = ['describe', 'prompt', 'review', 'result'] as const
export type Stage = (typeof STAGES)[number]

export const STAGE_LABELS: Record<Stage, string> = {
  describe: 'Describe',
  prompt: 'Prompt',
  review: 'Review',
  result: 'Optimize & Result',
}

export const STEP_LABELS: Record<StepName, string> = {
  prompt_gen: 'Writing the prompt',
  revise: 'Revising the prompt',
  generate: 'Generating the image',
  judge: 'Judging the image',
  recommend: 'Writing recommendations',
}

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

export const STOP_REASON_TEXT: Record<string, string> = {
  completed: 'Finished all requested iterations.',
  target_reached: 'Stopped early: the target score was reached.',
  cancelled: 'Cancelled. Everything finished before the cancel is kept.',
  error: 'Stopped by an error. Everything finished before it is kept.',
  interrupted: 'Interrupted (the server restarted). Everything finished before it is kept.',
  accepted: 'Accepted by you.',
}
