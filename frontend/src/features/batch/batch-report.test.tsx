import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import type { BatchGoal, BatchState } from '@/lib/types'

import { Progress } from './batch-report'

const goal = (id: string, cost: number, demo: boolean): BatchGoal =>
  ({
    id,
    goal: `a ${id}`,
    status: 'done',
    cost_usd: cost,
    seconds: 2,
    first_score: 60,
    best_score: 70,
    demo,
    checklist: [],
  }) as Partial<BatchGoal> as BatchGoal

const state = (goals: BatchGoal[]): BatchState =>
  ({
    batch_id: 'b1',
    status: 'done',
    provider: 'demo',
    started_at: '2026-01-01T00:00:00Z',
    goals,
    summary: {
      goals: goals.length,
      done: goals.length,
      failed: 0,
      cost_usd: goals.reduce((sum, g) => sum + (g.cost_usd ?? 0), 0),
      seconds: 4,
    },
  }) as unknown as BatchState

const show = (goals: BatchGoal[]) =>
  render(<Progress state={state(goals)} onCancel={() => {}} onResume={() => {}} providerName={(n) => n} />)

describe('batch costs', () => {
  it('say "$0 (demo)" where the offline stand-ins made the images, not a price of $0.0000', () => {
    show([goal('fox', 0, true), goal('hare', 0, true)])
    const rows = within(screen.getByTestId('batch-table')).getAllByRole('row').slice(1)
    expect(rows.map((r) => within(r).getByText(/\$/).textContent)).toEqual(['$0 (demo)', '$0 (demo)'])
    expect(screen.getByTestId('batch-summary')).toHaveTextContent('$0 (demo)')
  })

  it('show real costs as the session pages do', () => {
    show([goal('fox', 0.053, false), goal('hare', 1.2, false)])
    const rows = within(screen.getByTestId('batch-table')).getAllByRole('row').slice(1)
    expect(rows.map((r) => within(r).getByText(/\$/).textContent)).toEqual(['$0.053', '$1.20'])
    expect(screen.getByTestId('batch-summary')).toHaveTextContent('$1.25')
    expect(screen.getByTestId('batch-summary')).not.toHaveTextContent('demo')
  })
})
