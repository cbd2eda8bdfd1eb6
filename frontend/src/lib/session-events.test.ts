import { describe, expect, it } from 'vitest'

import { makeIteration, makeRun, makeSession, makeStep } from '@/test/fixtures'

import {
  currentStep,
  initialSessionState,
  type SessionAction,
  sessionReducer,
  type SessionState,
  stepOf,
} from './session-events'

const reduce = (actions: SessionAction[], from: SessionState = initialSessionState) =>
  actions.reduce(sessionReducer, from)

describe('sessionReducer (the stream carries whole snapshots)', () => {
  const base = makeSession({ iterations: [makeIteration(0)], updated_at: '2026-01-01T00:00:01Z' })
  const running = makeSession({
    status: 'running',
    iterations: [makeIteration(0)],
    run: makeRun({ started_at: '2026-01-01T00:00:02Z' }),
    updated_at: '2026-01-01T00:00:02Z',
  })

  it('shows each snapshot of a run as it is, and closes on done', () => {
    const revise = makeStep(1, 'revise')
    let s = reduce([
      { type: 'load', session: base },
      { type: 'state', session: running },
      {
        type: 'state',
        session: {
          ...running,
          current_step: revise,
          in_flight: [revise],
          updated_at: '2026-01-01T00:00:03Z',
        },
      },
    ])
    expect(currentStep(s.session)).toEqual(revise)
    const generate = makeStep(1, 'generate')
    const withImage = {
      ...running,
      iterations: [makeIteration(0), makeIteration(1, { judge_score: null })],
      current_step: generate,
      in_flight: [],
      updated_at: '2026-01-01T00:00:04Z',
    }
    s = reduce([{ type: 'state', session: withImage }], s)
    expect(s.session).toBe(withImage)
    const done = makeSession({
      status: 'done',
      iterations: [makeIteration(0), makeIteration(1)],
      best_index: 1,
      run: makeRun({ stop_reason: 'completed', finished_at: '2026-01-01T00:00:09Z' }),
      updated_at: '2026-01-01T00:00:09Z',
    })
    s = reduce([{ type: 'done', session: done }], s)
    expect(s.session).toBe(done)
    expect(s.stream).toBe('closed')
    expect(currentStep(s.session)).toBeNull()
  })

  it('ignores a snapshot older than the one shown (a slow REST answer)', () => {
    const newer = { ...base, updated_at: '2026-01-01T00:00:05Z', user_feedback: 'new' }
    const older = { ...base, updated_at: '2026-01-01T00:00:04Z', user_feedback: 'old' }
    const s = reduce([
      { type: 'load', session: newer },
      { type: 'state', session: older },
    ])
    expect(s.session?.user_feedback).toBe('new')
    // ...but a `done` still closes the stream
    expect(reduce([{ type: 'done', session: older }], s).stream).toBe('closed')
  })

  it('shows another session at once, whatever its time', () => {
    const other = { ...base, session_id: 's2', updated_at: '2025-01-01T00:00:00Z' }
    const s = reduce([
      { type: 'load', session: running },
      { type: 'load', session: other },
    ])
    expect(s.session?.session_id).toBe('s2')
  })

  it('names the step of each candidate in flight', () => {
    const a = makeStep(3, 'generate', { round: 1, candidate: 0 })
    const b = makeStep(4, 'judge', { round: 1, candidate: 1 })
    const session = { ...running, current_step: b, in_flight: [a, b] }
    expect(stepOf(session, 3)).toEqual(a)
    expect(stepOf(session, 4)).toEqual(b)
    expect(stepOf(session, 5)).toBeNull()
    expect(currentStep(session)).toEqual(b)
    expect(currentStep({ ...session, current_step: null })).toEqual(b)
    expect(stepOf({ ...session, status: 'done' }, 3)).toBeNull()
  })

  it('tracks the stream status and clears', () => {
    let s = reduce([{ type: 'stream', status: 'open' }])
    expect(s.stream).toBe('open')
    s = reduce([{ type: 'load', session: base }, { type: 'clear' }], s)
    expect(s).toEqual(initialSessionState)
  })
})
