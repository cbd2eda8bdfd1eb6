import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import { makeIteration, makeSession } from '@/test/fixtures'

import ResultStep from './result-step'

const noop = () => undefined

describe('ResultStep', () => {
  it('shows every iteration, marks the best, and shows failures with their error', () => {
    const failed = makeIteration(2, {
      status: 'failed',
      image_url: null,
      judge_score: null,
      error: { code: 'provider_timeout', message: 'The image provider did not answer in 60 s' },
    })
    const session = makeSession({
      status: 'done',
      iterations: [makeIteration(0), makeIteration(1), failed],
      best_index: 1,
      final_prompt_text: 'final prompt text',
      recommendations: ['Name concrete light sources'],
      run: {
        kind: 'optimize',
        requested_iterations: 2,
        target_score: 90,
        started_at: '2026-01-01T00:00:00Z',
        finished_at: '2026-01-01T00:01:00Z',
        stop_reason: 'completed',
        cancel_requested: false,
      },
    })
    render(<ResultStep session={session} steps={[]} current={null} onSession={noop} />)
    const items = within(screen.getByTestId('timeline'))
      .getAllByRole('listitem')
      .filter((li) => li.dataset.index)
    expect(items.map((li) => [li.dataset.index, li.dataset.best, li.dataset.status])).toEqual([
      ['0', 'false', 'ok'],
      ['1', 'true', 'ok'],
      ['2', 'false', 'failed'],
    ])
    expect(within(items[2]).getByRole('alert')).toHaveTextContent('did not answer in 60 s')
    expect(screen.getByTestId('stop-reason')).toHaveTextContent('1 iteration failed')
    expect(screen.getByTestId('final-prompt')).toHaveTextContent('final prompt text')
    expect(screen.getByTestId('recommendations')).toHaveTextContent('Name concrete light sources')
    expect(screen.getByRole('link', { name: /Download session/ })).toHaveAttribute(
      'href',
      '/api/sessions/s1/download',
    )
    expect(screen.getByRole('img', { name: /Score by iteration/ })).toHaveAccessibleName(/#0: 60, #1: 65/)
  })

  it('while running: live progress with Cancel, no final prompt or download yet', () => {
    const session = makeSession({
      status: 'running',
      iterations: [makeIteration(0)],
      final_prompt_text: 'stale',
      current_step: { iteration: 1, step: 'generate' },
      run: {
        kind: 'optimize',
        requested_iterations: 3,
        target_score: 90,
        started_at: '2026-01-01T00:00:30Z',
        finished_at: null,
        stop_reason: null,
        cancel_requested: false,
      },
    })
    render(
      <ResultStep
        session={session}
        steps={[{ iteration: 1, step: 'revise', status: 'ok', durationMs: 300 }]}
        current={{ iteration: 1, step: 'generate' }}
        onSession={noop}
      />,
    )
    const progress = screen.getByTestId('live-progress')
    expect(progress).toHaveTextContent('Iteration 1 of 3 · Generating the image')
    expect(within(progress).getByRole('button', { name: 'Cancel' })).toBeEnabled()
    expect(progress.querySelector('[data-step="revise"]')).toHaveAttribute('data-status', 'ok')
    expect(progress.querySelector('[data-step="judge"]')).toHaveAttribute('data-status', 'pending')
    expect(screen.queryByTestId('final-prompt')).not.toBeInTheDocument()
    expect(screen.queryByRole('link', { name: /Download session/ })).not.toBeInTheDocument()
  })

  it('infers finished steps when it joins a run late (no step events yet)', () => {
    const session = makeSession({
      status: 'running',
      iterations: [makeIteration(0)],
      current_step: { iteration: 1, step: 'judge' },
      run: {
        kind: 'optimize',
        requested_iterations: 2,
        target_score: 90,
        started_at: '2026-01-01T00:00:30Z',
        finished_at: null,
        stop_reason: null,
        cancel_requested: false,
      },
    })
    render(
      <ResultStep session={session} steps={[]} current={{ iteration: 1, step: 'judge' }} onSession={noop} />,
    )
    const progress = screen.getByTestId('live-progress')
    expect(progress.querySelector('[data-step="revise"]')).toHaveAttribute('data-status', 'ok')
    expect(progress.querySelector('[data-step="generate"]')).toHaveAttribute('data-status', 'ok')
    expect(progress.querySelector('[data-step="judge"]')).toHaveAttribute('data-status', 'running')
    expect(screen.getByTestId('timeline').querySelector('[data-pending="1"]')).toHaveTextContent(
      'Judging the image',
    )
  })
})

describe('an image that is not judged yet', () => {
  it('shows in the timeline as judging, without a failure mark in the chart', () => {
    const session = makeSession({
      status: 'running',
      iterations: [makeIteration(0), makeIteration(1, { judge_score: null, judge_notes: '' })],
      current_step: { iteration: 1, step: 'judge' },
      run: {
        kind: 'optimize',
        requested_iterations: 1,
        target_score: 90,
        started_at: '2026-01-01T00:00:00Z',
        finished_at: null,
        stop_reason: null,
        cancel_requested: false,
      },
    })
    render(
      <ResultStep session={session} steps={[]} current={{ iteration: 1, step: 'judge' }} onSession={noop} />,
    )
    const card = screen.getByTestId('timeline').querySelector('[data-index="1"]') as HTMLElement
    expect(card).toHaveTextContent('Judging…')
    expect(within(card).getByRole('img', { name: 'Iteration 1' })).toBeInTheDocument()
    expect(screen.getByTestId('score-chart').textContent).not.toContain('✕')
  })
})
