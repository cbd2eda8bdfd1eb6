import { render, screen, waitFor, within } from '@testing-library/react'
import { useCallback, useState } from 'react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { DEFAULT_LIMITS } from '@/lib/limits.gen'

import BatchPage from './batch-page'

/** A backend with no batches that records the estimate bodies it is sent. */
function backend() {
  const bodies: Record<string, unknown>[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      if (url.endsWith('/api/batches/estimate')) {
        bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>)
        return new Response(JSON.stringify({ usd: 0, low: 0, high: 0, goals: 1, basis: 'demo' }))
      }
      return new Response(JSON.stringify({ batches: [] }))
    }),
  )
  return bodies
}

afterEach(() => {
  vi.unstubAllGlobals()
  sessionStorage.clear()
})

describe('batch page run options', () => {
  it('uses the run options component with the limits the server gives', async () => {
    const bodies = backend()
    const limits = { ...DEFAULT_LIMITS, max_iterations: 7, max_candidates: 2, max_iterations_default: 5 }
    render(<BatchPage catalog={null} limits={limits} onRoute={() => undefined} />)
    const rounds = screen.getByLabelText('Rounds')
    expect(rounds).toHaveAttribute('max', '7')
    expect(rounds).toHaveAttribute('min', '0')
    const candidates = screen.getByRole('radiogroup', { name: 'Candidates per round' })
    expect(within(candidates).getAllByRole('radio')).toHaveLength(2)

    await userEvent.type(screen.getByLabelText('Goals: one per line, or JSON Lines'), 'a fox')
    await userEvent.click(within(candidates).getByRole('radio', { name: '2' }))
    await waitFor(() => expect(bodies.at(-1)).toMatchObject({ iterations: 5, candidates: 2 }))
  })
})

const SUMMARY = {
  goals: 1,
  done: 1,
  failed: 0,
  win_rate: null,
  loss_rate: null,
  tie_rate: null,
  mean_score_uplift: null,
  mean_checklist_uplift: null,
  cost_usd: 0,
  seconds: 1,
}
const DONE = {
  batch_id: 'b1',
  status: 'done',
  provider: 'demo',
  started_at: '2026-01-01T00:00:00Z',
  summary: SUMMARY,
  goals: [],
}

/** The page under a route the way the browser moves it: the address changes a task later. */
function Routed() {
  const [routeId, setRouteId] = useState<string | undefined>()
  const onRoute = useCallback((id: string | null) => {
    window.setTimeout(() => setRouteId(id ?? undefined))
  }, [])
  return <BatchPage catalog={null} limits={DEFAULT_LIMITS} routeId={routeId} onRoute={onRoute} />
}

describe('opening a batch', () => {
  it('loads a finished batch opened from the recent list', async () => {
    const gets: string[] = []
    vi.stubGlobal(
      'EventSource',
      class {
        addEventListener() {}
        close() {}
      },
    )
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) => {
        const url = String(input)
        gets.push(url)
        return new Response(JSON.stringify(url.endsWith('/api/batches') ? { batches: [DONE] } : DONE))
      }),
    )
    render(<Routed />)
    await userEvent.click(await screen.findByRole('button', { name: 'Open report' }))
    expect(await screen.findByTestId('batch-table')).toBeInTheDocument()
    expect(gets).toContain('/api/batches/b1')
  })
})

describe('the batch last open in this tab', () => {
  it('comes back into the address at #/batch, replacing it', async () => {
    backend()
    sessionStorage.setItem('sfumato.batch', 'b7')
    const onRoute = vi.fn()
    render(<BatchPage catalog={null} limits={DEFAULT_LIMITS} onRoute={onRoute} />)
    await waitFor(() => expect(onRoute).toHaveBeenCalledWith('b7', { replace: true }))
  })

  it('is remembered when the address names a batch', () => {
    backend()
    vi.stubGlobal(
      'EventSource',
      class {
        addEventListener() {}
        close() {}
      },
    )
    render(<BatchPage catalog={null} limits={DEFAULT_LIMITS} routeId="b9" onRoute={() => undefined} />)
    expect(sessionStorage.getItem('sfumato.batch')).toBe('b9')
  })
})
