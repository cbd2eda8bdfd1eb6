import { render, screen, waitFor, within } from '@testing-library/react'
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
