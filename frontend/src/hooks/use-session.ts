// One open session: loaded over REST, then followed live through the events stream while it runs.
import { useCallback, useEffect, useReducer, useState } from 'react'

import { api, describeError, type ReadableError } from '@/lib/api-client'
import { initialSessionState, type SessionAction, sessionReducer } from '@/lib/session-events'
import type { Iteration, Session, StepEvent } from '@/lib/types'

const POLL_MS = 1500

function parse<T>(e: Event): T | null {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as T
  } catch {
    return null
  }
}

/** Follow `GET /api/sessions/<id>/events`; falls back to polling if the stream cannot be opened. */
function followEvents(id: string, dispatch: (a: SessionAction) => void): () => void {
  let closed = false
  let poll: ReturnType<typeof setInterval> | undefined
  const source = new EventSource(api.eventsUrl(id))
  const on = <T>(name: string, fn: (data: T) => void) =>
    source.addEventListener(name, (e) => {
      const data = parse<T>(e)
      if (data) fn(data)
    })
  source.onopen = () => dispatch({ type: 'stream', status: 'open' })
  on<Session>('state', (session) => dispatch({ type: 'state', session }))
  on<StepEvent>('step', (step) => dispatch({ type: 'step', step }))
  on<Iteration>('iteration', (iteration) => dispatch({ type: 'iteration', iteration }))
  on<Session>('done', (session) => {
    closed = true
    source.close()
    dispatch({ type: 'done', session })
  })
  source.onerror = () => {
    if (closed) return
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up on the stream (e.g. a proxy refused it): poll instead.
      dispatch({ type: 'stream', status: 'closed' })
      poll ??= setInterval(() => {
        api.session(id).then(
          (session) => dispatch({ type: 'state', session }),
          () => undefined,
        )
      }, POLL_MS)
    } else {
      dispatch({ type: 'stream', status: 'reconnecting' })
    }
  }
  return () => {
    closed = true
    source.close()
    if (poll) clearInterval(poll)
  }
}

export function useSession(id: string | null) {
  const [state, dispatch] = useReducer(sessionReducer, initialSessionState)
  const [loadError, setLoadError] = useState<{ id: string; error: ReadableError } | null>(null)
  const loadedId = state.session?.session_id ?? null

  useEffect(() => {
    if (!id) return
    const ctl = new AbortController()
    // Another session: clear so its data never shows under this id. The same one (just created, or
    // revisited): keep it on screen while a fresh copy loads.
    if (id !== loadedId) dispatch({ type: 'clear' })
    api.session(id, ctl.signal).then(
      (session) => dispatch({ type: 'load', session }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setLoadError({ id, error: describeError(error) })
      },
    )
    return () => ctl.abort()
    // Only a change of id reloads; loadedId is only read to decide whether to clear.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id])

  // Recommendations are written after the run is done; keep following until they arrive.
  const running =
    state.session?.session_id === id &&
    (state.session?.status === 'running' || state.session?.recommendations_status === 'pending')
  useEffect(() => {
    if (!id || !running) return
    return followEvents(id, dispatch)
  }, [id, running])

  const apply = useCallback((session: Session) => dispatch({ type: 'load', session }), [])
  const session = id && state.session?.session_id === id ? state.session : null
  return {
    session,
    steps: session ? state.steps : [],
    state,
    stream: state.stream,
    loadError: loadError && loadError.id === id ? loadError.error : null,
    apply,
  }
}
