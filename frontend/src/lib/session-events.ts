// The session as the UI sees it: REST answers and the live events stream. The stream carries whole
// session snapshots (`state`, then `done` with the last; docs/API.md "Events stream"), so the view
// shows the newest snapshot and reconciles nothing.
import type { CurrentStep, Session } from './types'

export type StreamStatus = 'idle' | 'open' | 'reconnecting' | 'closed'

export interface SessionState {
  session: Session | null
  stream: StreamStatus
}

export type SessionAction =
  | { type: 'load'; session: Session }
  | { type: 'state'; session: Session }
  | { type: 'done'; session: Session }
  | { type: 'stream'; status: StreamStatus }
  | { type: 'clear' }

export const initialSessionState: SessionState = { session: null, stream: 'idle' }

const time = (iso: string | undefined | null) => (iso ? Date.parse(iso) || 0 : 0)

/** An older snapshot of the same session (e.g. a slow REST answer after a newer event) is dropped. */
function isStale(current: Session | null, incoming: Session): boolean {
  return (
    !!current &&
    current.session_id === incoming.session_id &&
    time(incoming.updated_at) < time(current.updated_at)
  )
}

export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case 'load':
    case 'state':
    case 'done': {
      const stream = action.type === 'done' ? 'closed' : state.stream
      if (isStale(state.session, action.session)) return { ...state, stream }
      return { session: action.session, stream }
    }
    case 'stream':
      return { ...state, stream: action.status }
    case 'clear':
      return initialSessionState
  }
}

/** The step in flight (the latest started), or null when nothing runs. */
export function currentStep(session: Session | null): CurrentStep | null {
  if (session?.status !== 'running') return null
  return session.current_step ?? session.in_flight.at(-1) ?? null
}

/** The step an iteration is at, while it is in flight. */
export function stepOf(session: Session, iteration: number): CurrentStep | null {
  if (session.status !== 'running') return null
  return session.in_flight.find((s) => s.iteration === iteration) ?? null
}
