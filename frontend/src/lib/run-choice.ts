// What a person picks before an optimize run, its limits (mirroring the server's) and the request body.
import type { RunMode } from '@/components/reference-api'
import { t } from '@/i18n'

import type { Limits, OptimizeBody, Session } from './types'

export interface RunChoice {
  rounds: number
  candidates: number
  /** The budget field as typed ('' = no budget). */
  budget: string
  /** "edit": each candidate edits the best image (issue 19); absent: "generate". */
  mode?: RunMode
}

export function initialChoice(session: Session, limits: Limits): RunChoice {
  return {
    rounds: Math.min(
      limits.max_iterations,
      Math.max(1, session.iterations_count || limits.max_iterations_default),
    ),
    candidates: Math.min(limits.max_candidates, Math.max(1, limits.candidates_default)),
    budget: '',
  }
}

/** Why the choice cannot be run, or null. Mirrors the server's limits (a batch allows 0 rounds). */
export function choiceProblem(choice: RunChoice, limits: Limits, minRounds = 1): string | null {
  if (choice.rounds < minRounds || choice.rounds > limits.max_iterations)
    return t('run.roundsRange', { min: minRounds, max: limits.max_iterations })
  const maxK = limits.max_candidates
  if (choice.candidates < 1 || choice.candidates > maxK) return t('run.candidatesRange', { max: maxK })
  if (choice.budget.trim() !== '') {
    const usd = Number(choice.budget)
    if (!Number.isFinite(usd) || usd <= 0) return t('run.budgetProblem')
  }
  return null
}

export function optimizeBody(choice: RunChoice): OptimizeBody {
  const body: OptimizeBody = { iterations_count: choice.rounds, candidates: choice.candidates }
  if (choice.budget.trim() !== '') body.budget_usd = Number(choice.budget)
  if (choice.mode === 'edit') body.mode = 'edit'
  return body
}

/** The choice as it can run on a model that takes `inputImages` input images: edit mode needs one. */
export const usableChoice = (choice: RunChoice, inputImages: number | null | undefined): RunChoice =>
  choice.mode === 'edit' && !(inputImages && inputImages > 0) ? { ...choice, mode: 'generate' } : choice
