// One open session: loaded over REST, then followed live through the events stream. Every open
// view follows it, whichever tab started a run: a tab that changes a session tells the others on a
// BroadcastChannel, and an idle view checks the session every few seconds (other browsers, devices).
import { useCallback, useEffect, useReducer, useState } from 'react'

import { api, describeError } from '@/lib/api-client'
import { initialSessionState, type SessionAction, sessionReducer } from '@/lib/session-events'
import type { Session } from '@/lib/types'

const POLL_MS = 1500
const IDLE_CHECK_MS = 4000
const CHANNEL = 'sfumato-sessions'

/** Tell other tabs of this browser that a session changed. */
export function announce(id: string) {
  if (typeof BroadcastChannel === 'undefined') return
  const channel = new BroadcastChannel(CHANNEL)
  channel.postMessage({ id })
  channel.close()
}

/** Run `fn` when another tab announces a change (to session `id`, or to any when id is null). */
export function onAnnounce(id: string | null, fn: () => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined
  const channel = new BroadcastChannel(CHANNEL)
  channel.onmessage = (e: MessageEvent<{ id?: string }>) => {
    if (id === null || e.data?.id === id) fn()
  }
  return () => channel.close()
}

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
  // The error itself, described when shown: its words may arrive after it (the strings load lazily).
  const [loadError, setLoadError] = useState<{ id: string; error: unknown } | null>(null)
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
        if (!ctl.signal.aborted) setLoadError({ id, error })
      },
    )
    return () => ctl.abort()
    // Only a change of id reloads; loadedId is only read to decide whether to clear.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id])

  // Follow the stream; `wake` reopens it (the server closes it after `done` when nothing runs).
  // Recommendations are written after the run is done: the stream stays open until they arrive,
  // and a change of either reopens it.
  const [wake, setWake] = useState(0)
  const current = state.session?.session_id === id ? state.session : null
  const running = current?.status === 'running'
  const live = running || current?.recommendations_status === 'pending'
  const updatedAt = current ? current.updated_at : null
  useEffect(() => {
    if (!id) return
    return followEvents(id, dispatch)
  }, [id, live, wake])
  useEffect(() => {
    if (!id) return
    return onAnnounce(id, () => setWake((n) => n + 1))
  }, [id])
  // While idle, look for changes made elsewhere (another browser, a script), and for
  // recommendations that outlasted the stream's wait for them.
  useEffect(() => {
    if (!id || running) return
    const timer = setInterval(() => {
      if (document.visibilityState === 'hidden') return
      api.session(id).then(
        (session) => {
          if (session.updated_at !== updatedAt) setWake((n) => n + 1)
        },
        () => undefined,
      )
    }, IDLE_CHECK_MS)
    return () => clearInterval(timer)
  }, [id, running, updatedAt])

  const apply = useCallback((session: Session) => {
    dispatch({ type: 'load', session })
    announce(session.session_id)
  }, [])
  const session = id && state.session?.session_id === id ? state.session : null
  return {
    session,
    stream: state.stream,
    loadError: loadError && loadError.id === id ? describeError(loadError.error) : null,
    apply,
  }
}
