import { describe, expect, it } from 'vitest'

import { formatUsd, stopReasonText } from './flow'
import { choiceProblem, optimizeBody, usableChoice } from './run-choice'
import { FALLBACK_LIMITS as limits } from './limits'
import type { RunInfo } from './types'
import { makeRun } from '@/test/fixtures'

const run = (extra: Partial<RunInfo>): RunInfo =>
  makeRun({ requested_iterations: 3, finished_at: '2026-01-01T00:01:00Z', ...extra })

describe('the run choice mirrors the server limits', () => {
  it('names the problem, or builds the body', () => {
    expect(choiceProblem({ rounds: 11, candidates: 1, budget: '' }, limits)).toMatch(/Rounds: 1 to 10/)
    expect(choiceProblem({ rounds: 2, candidates: 5, budget: '' }, limits)).toMatch(/Candidates: 1 to 4/)
    expect(choiceProblem({ rounds: 2, candidates: 2, budget: 'abc' }, limits)).toMatch(/Budget/)
    expect(choiceProblem({ rounds: 2, candidates: 2, budget: '0.5' }, limits)).toBeNull()
    expect(optimizeBody({ rounds: 2, candidates: 3, budget: '' })).toEqual({
      iterations_count: 2,
      candidates: 3,
    })
    expect(optimizeBody({ rounds: 2, candidates: 3, budget: '0.5' })).toEqual({
      iterations_count: 2,
      candidates: 3,
      budget_usd: 0.5,
    })
  })

  it('sends edit mode only where the model takes an input image', () => {
    const edit = { rounds: 2, candidates: 1, budget: '', mode: 'edit' as const }
    expect(optimizeBody(usableChoice(edit, 3))).toEqual({ iterations_count: 2, candidates: 1, mode: 'edit' })
    for (const none of [0, null, undefined]) {
      expect(optimizeBody(usableChoice(edit, none))).toEqual({ iterations_count: 2, candidates: 1 })
    }
  })
})

describe('stop reasons in plain words', () => {
  it('says why the run stopped, with its own numbers', () => {
    expect(stopReasonText(run({ stop_reason: 'plateau', plateau_rounds: 2 }))).toBe(
      'Stopped: no improvement in 2 rounds.',
    )
    expect(stopReasonText(run({ stop_reason: 'budget', budget_usd: 0.5 }))).toBe(
      'Stopped: budget reached ($0.50).',
    )
    expect(stopReasonText(run({ stop_reason: 'target_reached' }))).toBe(
      'Stopped: the target score 90 was reached.',
    )
    expect(stopReasonText(run({ stop_reason: 'completed', rounds_done: 3 }))).toBe(
      'Finished: all 3 planned rounds ran.',
    )
    expect(stopReasonText(run({ stop_reason: 'cancelled' }))).toMatch(/^Cancelled/)
    expect(stopReasonText(null)).toBeNull()
    expect(formatUsd(0)).toBe('$0')
    expect(formatUsd(0.053)).toBe('$0.053')
    expect(formatUsd(1.2)).toBe('$1.20')
  })
})
