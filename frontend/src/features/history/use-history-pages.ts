import { useCallback, useEffect, useRef, useState } from 'react'

import { onAnnounce } from '@/hooks/use-session'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { MAX_PAGE_SIZE } from '@/lib/limits.gen'
import type { SessionStatus, SessionSummary } from '@/lib/types'

export const PAGE_SIZE = 30
/** The most `GET /api/sessions` gives in one page. */
const MAX_LIMIT = MAX_PAGE_SIZE
/** How often the loaded pages are looked at again while a session on them runs. */
export const RUNNING_CHECK_MS = 3000
const REFRESH = '\u0000refresh'

export interface HistoryFilters {
  q: string
  status: SessionStatus | ''
}

interface Loaded {
  key: string
  sessions: SessionSummary[]
  next: string | null
}

/**
 * Past sessions a page at a time, newest first: the first page when the filters change, the next
 * one when `loadMore` is called (as the person scrolls). Stale answers are dropped.
 *
 * The pages already loaded follow changes made in any tab (a run started, finished or failed): they
 * are fetched again, as many sessions as are shown, when another tab announces a change, and every
 * few seconds while one of them is running.
 */
export function useHistoryPages(filters: HistoryFilters) {
  const key = `${filters.status}\u0000${filters.q.trim()}`
  const [loaded, setLoaded] = useState<Loaded | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  const [reloads, setReloads] = useState(0)
  const inflight = useRef<{ cursor: string | null; ctl: AbortController } | null>(null)
  const pending = useRef(false)

  const fetchPage = useCallback(
    (cursor: string | null) => {
      inflight.current?.ctl.abort()
      const ctl = new AbortController()
      inflight.current = { cursor, ctl }
      const query = { limit: PAGE_SIZE, cursor, q: filters.q.trim(), status: filters.status || null }
      api.sessions(query, ctl.signal).then(
        (page) => {
          if (ctl.signal.aborted) return
          inflight.current = null
          setLoaded((prev) => ({
            key,
            sessions: cursor && prev?.key === key ? [...prev.sessions, ...page.sessions] : page.sessions,
            next: page.next_cursor,
          }))
          setError(null)
        },
        (e: unknown) => {
          if (ctl.signal.aborted) return
          inflight.current = null
          setError(describeError(e))
        },
      )
    },
    [key, filters.q, filters.status],
  )

  useEffect(() => {
    fetchPage(null)
    return () => inflight.current?.ctl.abort()
  }, [fetchPage, reloads])

  const current = loaded?.key === key ? loaded : null
  const next = current?.next ?? null
  const loadMore = useCallback(() => {
    if (next && inflight.current?.cursor !== next) fetchPage(next)
  }, [next, fetchPage])

  // Fetch again what is shown (a page of at least PAGE_SIZE), in pages of at most MAX_LIMIT. A
  // refresh asked for while a page is on its way runs once that page has arrived.
  const shown = useRef<Loaded | null>(null)
  useEffect(() => {
    shown.current = current
  }, [current])
  const [refreshes, setRefreshes] = useState(0)
  const refreshShown = useCallback(() => {
    const have = shown.current
    if (inflight.current || !have) {
      if (inflight.current?.cursor !== REFRESH) pending.current = true
      return
    }
    const ctl = new AbortController()
    inflight.current = { cursor: REFRESH, ctl }
    const want = Math.max(PAGE_SIZE, have.sessions.length)
    const q = filters.q.trim()
    const status = filters.status || null
    const walk = async () => {
      let sessions: SessionSummary[] = []
      let cursor: string | null = null
      do {
        const limit = Math.min(MAX_LIMIT, want - sessions.length)
        const page = await api.sessions({ limit, cursor, q, status }, ctl.signal)
        sessions = [...sessions, ...page.sessions]
        cursor = page.next_cursor
      } while (cursor && sessions.length < want)
      return { sessions, next: cursor }
    }
    walk().then(
      ({ sessions, next }) => {
        if (ctl.signal.aborted) return
        inflight.current = null
        setLoaded({ key, sessions, next })
        setError(null)
      },
      () => {
        // A failed look-again keeps what is shown; the next change or tick tries again.
        if (!ctl.signal.aborted) inflight.current = null
      },
    )
  }, [key, filters.q, filters.status])
  useEffect(() => {
    if (refreshes > 0) refreshShown()
  }, [refreshes, refreshShown])
  const requestRefresh = useCallback(() => setRefreshes((n) => n + 1), [])

  // A page that arrives while a refresh waited: run the refresh now.
  useEffect(() => {
    if (current && pending.current && !inflight.current) {
      pending.current = false
      requestRefresh()
    }
  }, [current, requestRefresh])

  useEffect(() => onAnnounce(null, requestRefresh), [requestRefresh])
  const anyRunning = !!current?.sessions.some((s) => s.status === 'running')
  useEffect(() => {
    if (!anyRunning) return
    // A hidden tab skips the look-again; the first tick after it is shown again does it.
    const timer = setInterval(
      () => document.visibilityState !== 'hidden' && requestRefresh(),
      RUNNING_CHECK_MS,
    )
    return () => clearInterval(timer)
  }, [anyRunning, requestRefresh])

  return {
    sessions: current?.sessions ?? null,
    hasMore: next !== null,
    error,
    loadMore,
    refresh: () => setReloads((n) => n + 1),
  }
}
