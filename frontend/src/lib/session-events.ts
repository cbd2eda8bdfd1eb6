// The session as the UI sees it: REST answers and the live events stream
// (`state`, `step`, `iteration`, `done`; docs/API.md "Events stream") folded by one reducer.
import type { Iteration, Session, StepEvent, StepName } from './types'

export type StepStatus = 'running' | 'ok' | 'failed'

export interface LiveStep {
  iteration: number
  round?: number
  candidate?: number
  step: StepName
  status: StepStatus
  durationMs?: number
}

export type StreamStatus = 'idle' | 'open' | 'reconnecting' | 'closed'

export interface SessionState {
  session: Session | null
  /** Steps seen in the current run, in the order they started. */
  steps: LiveStep[]
  stream: StreamStatus
}

export type SessionAction =
  | { type: 'load'; session: Session }
  | { type: 'state'; session: Session }
  | { type: 'done'; session: Session }
  | { type: 'step'; step: StepEvent }
  | { type: 'iteration'; iteration: Iteration }
  | { type: 'stream'; status: StreamStatus }
  | { type: 'clear' }

export const initialSessionState: SessionState = { session: null, steps: [], stream: 'idle' }

const time = (iso: string | undefined | null) => (iso ? Date.parse(iso) || 0 : 0)

/** A run is new when its start time differs from the one we were showing. */
function sameRun(a: Session | null, b: Session): boolean {
  return !!a && a.session_id === b.session_id && a.run?.started_at === b.run?.started_at
}

/** An older snapshot of the same session (e.g. a slow REST answer after a newer event) is dropped. */
function isStale(current: Session | null, incoming: Session): boolean {
  return (
    !!current &&
    current.session_id === incoming.session_id &&
    time(incoming.updated_at) < time(current.updated_at)
  )
}

/** Keep iterations we already received that a snapshot does not list yet. */
function mergeIterations(current: Session | null, incoming: Session): Iteration[] {
  if (!current || current.session_id !== incoming.session_id || !sameRun(current, incoming)) {
    return incoming.iterations
  }
  const byIndex = new Map(current.iterations.map((it) => [it.index, it]))
  for (const it of incoming.iterations) byIndex.set(it.index, it)
  return [...byIndex.values()].sort((x, y) => x.index - y.index)
}

function applySnapshot(state: SessionState, incoming: Session, final: boolean): SessionState {
  if (isStale(state.session, incoming)) return state
  const session = { ...incoming, iterations: mergeIterations(state.session, incoming) }
  let steps = sameRun(state.session, incoming) ? state.steps : []
  // A finished run leaves nothing in flight.
  if (session.status !== 'running') steps = steps.filter((s) => s.status !== 'running')
  return { ...state, session, steps, stream: final ? 'closed' : state.stream }
}

function applyStep(state: SessionState, ev: StepEvent): SessionState {
  const steps = [...state.steps]
  const at = steps.findIndex((s) => s.iteration === ev.iteration && s.step === ev.step)
  if (ev.phase === 'start') {
    const entry: LiveStep = {
      iteration: ev.iteration,
      round: ev.round,
      candidate: ev.candidate,
      step: ev.step,
      status: 'running',
    }
    if (at === -1) steps.push(entry)
    else steps[at] = entry
  } else {
    const entry: LiveStep = {
      iteration: ev.iteration,
      round: ev.round,
      candidate: ev.candidate,
      step: ev.step,
      status: ev.ok === false ? 'failed' : 'ok',
      durationMs: ev.duration_ms,
    }
    if (at === -1) steps.push(entry)
    else steps[at] = entry
  }
  const session = state.session
    ? {
        ...state.session,
        current_step:
          ev.phase === 'start'
            ? { iteration: ev.iteration, round: ev.round, candidate: ev.candidate, step: ev.step }
            : state.session.current_step,
      }
    : null
  return { ...state, steps, session }
}

function applyIteration(state: SessionState, it: Iteration): SessionState {
  if (!state.session) return state
  const others = state.session.iterations.filter((x) => x.index !== it.index)
  const iterations = [...others, it].sort((x, y) => x.index - y.index)
  return { ...state, session: { ...state.session, iterations } }
}

export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case 'load':
    case 'state':
      return applySnapshot(state, action.session, false)
    case 'done':
      return applySnapshot(state, action.session, true)
    case 'step':
      return applyStep(state, action.step)
    case 'iteration':
      return applyIteration(state, action.iteration)
    case 'stream':
      return { ...state, stream: action.status }
    case 'clear':
      return initialSessionState
  }
}

/** The step in flight: the last started step that has not ended, else what the session says. */
export interface InFlight {
  iteration: number
  round?: number
  candidate?: number
  step: StepName
}

export function currentStep(state: SessionState): InFlight | null {
  if (state.session?.status !== 'running') return null
  for (let i = state.steps.length - 1; i >= 0; i--) {
    const s = state.steps[i]
    if (s.status === 'running')
      return { iteration: s.iteration, round: s.round, candidate: s.candidate, step: s.step }
  }
  const cs = state.session.current_step
  return cs ? { iteration: cs.iteration, round: cs.round, candidate: cs.candidate, step: cs.step } : null
}
