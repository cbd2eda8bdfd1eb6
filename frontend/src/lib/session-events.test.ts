import { describe, expect, it } from 'vitest'

import { makeIteration, makeSession } from '@/test/fixtures'

import {
  currentStep,
  initialSessionState,
  type SessionAction,
  sessionReducer,
  type SessionState,
} from './session-events'

const run = (started: string) =>
  ({
    kind: 'optimize',
    requested_iterations: 2,
    target_score: 90,
    started_at: started,
    finished_at: null,
    stop_reason: null,
    cancel_requested: false,
  }) as const

const reduce = (actions: SessionAction[], from: SessionState = initialSessionState) =>
  actions.reduce(sessionReducer, from)

describe('sessionReducer', () => {
  const base = makeSession({ iterations: [makeIteration(0)], updated_at: '2026-01-01T00:00:01Z' })
  const running = makeSession({
    status: 'running',
    iterations: [makeIteration(0)],
    run: run('2026-01-01T00:00:02Z'),
    updated_at: '2026-01-01T00:00:02Z',
  })

  it('follows a whole optimize run: state, steps, iterations, done', () => {
    let s = reduce([
      { type: 'load', session: base },
      { type: 'state', session: running },
    ])
    expect(s.session?.status).toBe('running')
    s = reduce([{ type: 'step', step: { iteration: 1, step: 'revise', phase: 'start' } }], s)
    expect(currentStep(s)).toEqual({ iteration: 1, step: 'revise' })
    s = reduce(
      [
        { type: 'step', step: { iteration: 1, step: 'revise', phase: 'end', ok: true, duration_ms: 12 } },
        { type: 'step', step: { iteration: 1, step: 'generate', phase: 'start' } },
      ],
      s,
    )
    expect(currentStep(s)).toEqual({ iteration: 1, step: 'generate' })
    expect(s.steps).toEqual([
      { iteration: 1, step: 'revise', status: 'ok', durationMs: 12 },
      { iteration: 1, step: 'generate', status: 'running' },
    ])
    // The image shows up as soon as its iteration event arrives, before the next snapshot.
    s = reduce([{ type: 'iteration', iteration: makeIteration(1) }], s)
    expect(s.session?.iterations.map((it) => it.index)).toEqual([0, 1])

    const done = makeSession({
      status: 'done',
      iterations: [makeIteration(0), makeIteration(1)],
      best_index: 1,
      run: { ...run('2026-01-01T00:00:02Z'), stop_reason: 'completed', finished_at: '2026-01-01T00:00:09Z' },
      updated_at: '2026-01-01T00:00:09Z',
    })
    s = reduce([{ type: 'done', session: done }], s)
    expect(s.session?.status).toBe('done')
    expect(s.session?.best_index).toBe(1)
    expect(s.stream).toBe('closed')
    expect(currentStep(s)).toBeNull()
    expect(s.steps.every((st) => st.status !== 'running')).toBe(true)
  })

  it('keeps an iteration received by event when a snapshot without it arrives in the same run', () => {
    let s = reduce([
      { type: 'load', session: running },
      { type: 'iteration', iteration: makeIteration(1) },
    ])
    s = reduce([{ type: 'state', session: { ...running, updated_at: '2026-01-01T00:00:03Z' } }], s)
    expect(s.session?.iterations.map((it) => it.index)).toEqual([0, 1])
  })

  it('replaces an iteration with the same index (e.g. a regenerated first image)', () => {
    const s = reduce([
      { type: 'load', session: base },
      { type: 'iteration', iteration: makeIteration(0, { judge_score: 99 }) },
    ])
    expect(s.session?.iterations).toHaveLength(1)
    expect(s.session?.iterations[0].judge_score).toBe(99)
  })

  it('ignores a snapshot older than the one shown', () => {
    const newer = { ...base, updated_at: '2026-01-01T00:00:05Z', user_feedback: 'new' }
    const older = { ...base, updated_at: '2026-01-01T00:00:04Z', user_feedback: 'old' }
    const s = reduce([
      { type: 'load', session: newer },
      { type: 'state', session: older },
    ])
    expect(s.session?.user_feedback).toBe('new')
  })

  it('starts a fresh step log when a new run begins', () => {
    let s = reduce([
      { type: 'load', session: running },
      { type: 'step', step: { iteration: 1, step: 'revise', phase: 'end', ok: true } },
    ])
    expect(s.steps).toHaveLength(1)
    s = reduce(
      [
        {
          type: 'state',
          session: { ...running, run: run('2026-01-01T00:01:00Z'), updated_at: '2026-01-01T00:01:00Z' },
        },
      ],
      s,
    )
    expect(s.steps).toEqual([])
  })

  it('records failed steps and falls back to current_step when no step events came', () => {
    let s = reduce([{ type: 'load', session: { ...running, current_step: { iteration: 2, step: 'judge' } } }])
    expect(currentStep(s)).toEqual({ iteration: 2, step: 'judge' })
    s = reduce([{ type: 'step', step: { iteration: 2, step: 'judge', phase: 'end', ok: false } }], s)
    expect(s.steps[0].status).toBe('failed')
  })

  it('tracks the stream status and clears', () => {
    let s = reduce([{ type: 'stream', status: 'open' }])
    expect(s.stream).toBe('open')
    s = reduce([{ type: 'load', session: base }, { type: 'clear' }], s)
    expect(s).toEqual(initialSessionState)
  })
})
