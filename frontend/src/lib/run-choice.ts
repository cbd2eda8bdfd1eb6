// What a person picks before an optimize run, its limits (mirroring the server's) and the request body.
import { t } from '@/i18n'
import type { Limits, OptimizeBody, Session } from './types'

export interface RunChoice {
  rounds: number
  candidates: number
  /** The budget field as typed ('' = no budget). */
  budget: string
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
  return body
}
