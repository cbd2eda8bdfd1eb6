// The batch page's data: the open batch (from the address) followed by its events stream, the
// batches since the server started, and the estimate that doubles as validation of the goals.
import { useCallback, useEffect, useState } from 'react'

import { describeError, type ReadableError } from '@/lib/api-client'
import type { BatchBody, BatchEstimate, BatchRow, BatchState } from '@/lib/types'

import { batchApi, type LineProblem, lineProblems } from './batch-api'

const LAST_BATCH_KEY = 'sfumato.batch'

type EstimateState =
  { key: string; estimate: BatchEstimate } | { key: string; problems: LineProblem[]; error: ReadableError }

/**
 * The estimate doubles as validation: the server parses the goals the way the batch will, so a bad
 * line is named before Start (and Start waits for a good answer, never for ever).
 */
export function useEstimate(body: BatchBody | null) {
  const [state, setState] = useState<EstimateState | null>(null)
  const key = body ? JSON.stringify(body) : ''
  useEffect(() => {
    if (!key) return
    const ctl = new AbortController()
    const timer = window.setTimeout(() => {
      batchApi.estimate(JSON.parse(key) as BatchBody, ctl.signal).then(
        (estimate) => setState({ key, estimate }),
        (e: unknown) => {
          if (!ctl.signal.aborted) setState({ key, problems: lineProblems(e), error: describeError(e) })
        },
      )
    }, 400)
    return () => {
      window.clearTimeout(timer)
      ctl.abort()
    }
  }, [key])
  return state && state.key === key ? state : null
}

function parseBatch(e: Event): BatchState | null {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as BatchState
  } catch {
    return null
  }
}

/**
 * Follows `GET /api/batches/<id>/events` the way the session page follows its run: each `state`
 * is the whole batch, `done` the last one. When the stream breaks (or reconnects), one GET fills
 * the gap; a batch the server no longer knows is forgotten.
 */
export function useBatch(id: string | null, onGone: () => void) {
  const [state, setState] = useState<BatchState | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  // Another batch's state (the address moved on) is never shown under this id.
  const current = state?.batch_id === id ? state : null
  const running = !current || current.status === 'running'
  useEffect(() => {
    if (!id || !running) return
    const ctl = new AbortController()
    const show = (s: BatchState) => {
      setState(s)
      setError(null)
    }
    const fetchOnce = () =>
      batchApi.get(id, ctl.signal).then(show, (e: unknown) => {
        if (ctl.signal.aborted) return
        const readable = describeError(e)
        // A batch of an earlier server run: its report stays on disk, the page starts afresh.
        if (readable.code === 'not_found') onGone()
        else setError(readable)
      })
    void fetchOnce() // the batch at once, as the session page loads over REST, then its events
    const source = new EventSource(batchApi.eventsUrl(id))
    const on = (name: string) =>
      source.addEventListener(name, (e) => {
        const data = parseBatch(e)
        if (data) show(data)
        if (name === 'done') source.close()
      })
    on('state')
    on('done')
    source.onerror = () => void fetchOnce()
    return () => {
      source.close()
      ctl.abort()
    }
  }, [id, running, onGone])
  return { state: current, error, setState }
}

/** Batches since the server started (any tab or the CLI's `serve`), refreshed while one runs. */
export function useRecentBatches(openId: string | null, openStatus: string | undefined) {
  const [rows, setRows] = useState<BatchRow[]>([])
  useEffect(() => {
    const ctl = new AbortController()
    batchApi.list(ctl.signal).then(
      (list) => setRows(list.batches),
      () => undefined,
    )
    return () => ctl.abort()
  }, [openId, openStatus])
  return rows
}

export type OnRoute = (id: string | null, opts?: { replace?: boolean }) => void

/**
 * The open batch is the one the address names, and nothing else: it is never read from storage
 * while rendering (a value React does not track: a render that React then bailed out of kept the
 * new id in the effects' dependencies without running them, so a batch opened from the list never
 * loaded). At `#/batch` the batch last open in this tab is put back in the address, so the page
 * survives a visit to one of its sessions.
 */
export function useOpenBatch(routeId: string | undefined, onRoute: OnRoute) {
  useEffect(() => {
    if (routeId) sessionStorage.setItem(LAST_BATCH_KEY, routeId)
    else {
      const last = sessionStorage.getItem(LAST_BATCH_KEY)
      if (last) onRoute(last, { replace: true })
    }
  }, [routeId, onRoute])
  const forget = useCallback(() => {
    sessionStorage.removeItem(LAST_BATCH_KEY)
    onRoute(null)
  }, [onRoute])
  return { batchId: routeId ?? null, open: (id: string) => onRoute(id), forget }
}
