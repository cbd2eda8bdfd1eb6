import { useCallback, useEffect, useRef, useState } from 'react'

import { api, describeError, type ReadableError } from '@/lib/api-client'
import type { SessionStatus, SessionSummary } from '@/lib/types'

export const PAGE_SIZE = 30

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
 */
export function useHistoryPages(filters: HistoryFilters) {
  const key = `${filters.status}\u0000${filters.q.trim()}`
  const [loaded, setLoaded] = useState<Loaded | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  const [reloads, setReloads] = useState(0)
  const inflight = useRef<{ cursor: string | null; ctl: AbortController } | null>(null)

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

  return {
    sessions: current?.sessions ?? null,
    hasMore: next !== null,
    error,
    loadMore,
    refresh: () => setReloads((n) => n + 1),
  }
}
