import { render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'

import { applyLanguage } from '@/i18n'

import { FALLBACK_LIMITS as limits } from '@/lib/limits'
import type { RunInfo } from '@/lib/types'
import { makeIteration, makeSession, makeRun, makeStep } from '@/test/fixtures'

import ResultStep from './result-step'

const noop = () => undefined
const branch = async () => undefined
const run = (extra: Partial<RunInfo> = {}): RunInfo =>
  makeRun({ started_at: '2026-01-01T00:00:30Z', ...extra })
const props = { limits, onSession: noop, onBranch: branch }

describe('ResultStep', () => {
  it('shows every iteration by round, marks the best, and shows failures with their error', () => {
    const failed = makeIteration(2, {
      round: 1,
      candidate: 1,
      status: 'failed',
      image_url: null,
      judge_score: null,
      error: { code: 'provider_timeout', message: 'The image provider did not answer in 60 s', details: {} },
    })
    const session = makeSession({
      status: 'done',
      iterations: [makeIteration(0, { round: 0 }), makeIteration(1, { round: 1, candidate: 0 }), failed],
      best_index: 1,
      final_prompt_text: 'final prompt text',
      final_prompt_rendered: 'what the provider got',
      recommendations: ['Name concrete light sources'],
      recommendations_status: 'ready',
      run: run({ finished_at: '2026-01-01T00:01:00Z', stop_reason: 'completed', rounds_done: 1 }),
    })
    render(<ResultStep session={session} {...props} />)
    const items = within(screen.getByTestId('timeline'))
      .getAllByRole('listitem')
      .filter((li) => li.dataset.index)
    expect(items.map((li) => [li.dataset.index, li.dataset.best, li.dataset.status])).toEqual([
      ['0', 'false', 'ok'],
      ['1', 'true', 'ok'],
      ['2', 'false', 'failed'],
    ])
    expect(screen.getByRole('region', { name: 'Round 1' })).toHaveTextContent('2 candidates')
    expect(within(items[2]).getByRole('alert')).toHaveTextContent('did not answer in 60 s')
    expect(screen.getByTestId('stop-reason')).toHaveTextContent('Finished: all 1 planned round ran.')
    expect(screen.getByTestId('stop-reason')).toHaveTextContent('1 candidate failed')
    expect(screen.getByTestId('final-prompt')).toHaveTextContent('what the provider got')
    expect(screen.getByRole('button', { name: 'Copy prompt' })).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Copy FLEX source' })).toBeInTheDocument()
    expect(screen.getByTestId('recommendations')).toHaveTextContent('Name concrete light sources')
    expect(screen.getByRole('link', { name: /Download session/ })).toHaveAttribute(
      'href',
      '/api/sessions/s1/download',
    )
    expect(screen.getByRole('img', { name: /Score by round/ })).toHaveAccessibleName(/#0: 60, #1: 65/)
  })

  it('says the stop reason in plain words, and that recommendations are on their way', () => {
    const session = makeSession({
      status: 'done',
      iterations: [makeIteration(0), makeIteration(1, { round: 1 })],
      best_index: 0,
      recommendations_status: 'pending',
      run: run({ stop_reason: 'plateau', plateau_rounds: 2, finished_at: '2026-01-01T00:01:00Z' }),
    })
    render(<ResultStep session={session} {...props} />)
    expect(screen.getByTestId('stop-reason')).toHaveTextContent('Stopped: no improvement in 2 rounds.')
    // Said twice: beside the stop reason, and in the "What worked" section they will fill.
    expect(screen.getByTestId('recommendations-pending')).toHaveTextContent('Writing recommendations…')
    expect(screen.getByRole('region', { name: 'What worked' })).toHaveTextContent('Writing recommendations…')
    expect(screen.getByTestId('hero-best')).toHaveTextContent('First image, still the best')
  })

  it('shows the pairwise outcome and the checklist ticks of each candidate', () => {
    const session = makeSession({
      status: 'done',
      checklist: [{ id: 'q1', question: 'Is there one fox?', source: 'goal', reference: null }],
      iterations: [
        makeIteration(0, { round: 0, checklist_pass: 0.5 }),
        makeIteration(1, {
          round: 1,
          checklist_pass: 1,
          checklist_results: [{ id: 'q1', answer: 'yes', note: 'one fox, centred' }],
          pairwise: { against: 0, verdicts: ['candidate', 'incumbent'], reasons: [], result: 'tie' },
        }),
      ],
      best_index: 0,
      run: run({ stop_reason: 'completed', finished_at: '2026-01-01T00:01:00Z' }),
    })
    render(<ResultStep session={session} {...props} />)
    const badge = screen.getByTestId('pairwise')
    expect(badge).toHaveAttribute('data-result', 'tie')
    expect(badge).toHaveTextContent('Tie vs #0')
    expect(badge).toHaveTextContent('this one')
    expect(badge).toHaveTextContent('the best so far')
    const ticks = screen.getAllByTestId('checklist-ticks')[0]
    expect(ticks).toHaveTextContent('Is there one fox?')
    expect(ticks).toHaveTextContent('one fox, centred')
    expect(ticks.querySelector('[data-answer="yes"]')).not.toBeNull()
  })

  it('while running: planned slots, the current one labelled, Cancel, no download yet', () => {
    const session = makeSession({
      status: 'running',
      iterations: [makeIteration(0, { created_at: '2026-01-01T00:00:00Z' })],
      current_step: makeStep(1, 'generate', { round: 1, candidate: 0 }),
      in_flight: [
        makeStep(1, 'generate', { round: 1, candidate: 0 }),
        makeStep(2, 'revise', { round: 1, candidate: 1 }),
      ],
      run: run({ requested_iterations: 3, candidates: 2 }),
    })
    render(<ResultStep session={session} {...props} />)
    const progress = screen.getByTestId('live-progress')
    expect(progress).toHaveTextContent('Round 1 of 3 · candidate 1 of 2 · Generating the image')
    expect(within(progress).getByRole('button', { name: 'Cancel' })).toBeEnabled()
    const slots = progress.querySelectorAll('[data-testid="slots"] > li')
    expect(slots).toHaveLength(6)
    // Both candidates of round 1 are in flight together; round 2 is planned.
    expect(slots[0]).toHaveAttribute('data-state', 'current')
    expect(slots[1]).toHaveAttribute('data-state', 'current')
    expect(slots[2]).toHaveAttribute('data-state', 'pending')
    expect(within(progress).getByRole('progressbar')).toHaveAttribute('aria-valuemax', '6')
    expect(screen.queryByRole('link', { name: /Download session/ })).not.toBeInTheDocument()
  })
})

describe('a further run on a session', () => {
  it('numbers its rounds after the earlier ones, in the slots and on the chart', () => {
    const session = makeSession({
      status: 'running',
      iterations: [
        makeIteration(0, { round: 0 }),
        makeIteration(1, { round: 1 }),
        makeIteration(2, { round: 2, created_at: '2026-01-01T00:00:40Z' }),
      ],
      run: run({ requested_iterations: 2 }),
    })
    render(<ResultStep session={session} {...props} />)
    const slots = screen.getByTestId('live-progress').querySelectorAll('[data-testid="slots"] > li')
    expect([...slots].map((li) => li.getAttribute('data-state'))).toEqual(['done', 'current'])
    expect(slots[0]).toHaveTextContent('70/100')
    // The x-axis already reaches the last planned round (1 earlier + 2 now).
    expect(screen.getByTestId('score-chart')).toHaveTextContent('R3')
  })
})

describe('an image that is not judged yet', () => {
  it('shows in the timeline as judging, without a failure mark in the chart', () => {
    const session = makeSession({
      status: 'running',
      iterations: [makeIteration(0), makeIteration(1, { judge_score: null, judge_notes: '' })],
      current_step: makeStep(1, 'judge'),
      in_flight: [makeStep(1, 'judge')],
      run: run({ requested_iterations: 1, started_at: '2026-01-01T00:00:00Z' }),
    })
    render(<ResultStep session={session} {...props} />)
    const card = screen.getByTestId('timeline').querySelector('[data-index="1"]') as HTMLElement
    expect(card).toHaveTextContent('Judging…')
    expect(within(card).getByRole('img', { name: 'Iteration 1' })).toBeInTheDocument()
    expect(screen.getByTestId('score-chart').textContent).not.toContain('✕')
  })
})

describe('ResultStep, issue 17', () => {
  it('explains a score changed by judging again, and shows the negative prompt the provider got', () => {
    const first = makeIteration(0, {
      round: 0,
      judge_score: 70,
      checklist_version: 2,
      earlier_judgements: [{ judge_score: 74, checklist_pass: 0.5, checklist_version: 1, judged_at: '' }],
    })
    const best = makeIteration(1, {
      round: 1,
      judge_score: 80,
      rendered_prompt: 'a fox in snow',
      rendered_negative: 'blurry, watermark',
    })
    const session = makeSession({
      status: 'done',
      iterations: [first, best],
      best_index: 1,
      final_prompt_rendered: 'a fox in snow',
      run: run({ finished_at: '2026-01-01T00:01:00Z', stop_reason: 'completed', rounds_done: 1 }),
    })
    render(<ResultStep session={session} {...props} />)
    // Said where the score shows: the hero's first image and its timeline card.
    const notes = screen.getAllByTestId('rejudged')
    expect(notes.length).toBeGreaterThanOrEqual(2)
    for (const note of notes) expect(note).toHaveTextContent('judged again against checklist v2: 74 → 70')
    expect(screen.getByTestId('final-negative')).toHaveTextContent('blurry, watermark')
  })

  it('says the prompt is in English when the person wrote in Russian, and only then', () => {
    const best = makeIteration(0, { round: 0, judge_score: 80, rendered_prompt: 'a fox in snow' })
    const done = {
      status: 'done' as const,
      iterations: [best],
      best_index: 0,
      final_prompt_rendered: 'a fox in snow',
    }
    const { unmount } = render(
      <ResultStep session={makeSession({ ...done, language: 'ru', prompt_language: 'en' })} {...props} />,
    )
    expect(screen.getByTestId('prompt-language-note')).toHaveTextContent('written in English')
    unmount()
    render(
      <ResultStep session={makeSession({ ...done, language: 'en', prompt_language: 'en' })} {...props} />,
    )
    expect(screen.queryByTestId('prompt-language-note')).toBeNull()
  })
})

describe('a candidate strategy', () => {
  afterEach(async () => {
    await applyLanguage('en')
  })

  it('is named in the language on screen (the server sends its English name)', async () => {
    await applyLanguage('ru', true)
    const session = makeSession({
      status: 'done',
      iterations: [makeIteration(0, { round: 0 }), makeIteration(1, { round: 1, strategy: 'emphasis' })],
      best_index: 1,
    })
    render(<ResultStep session={session} {...props} />)
    const card = screen.getByTestId('timeline').querySelector('[data-index="1"]') as HTMLElement
    expect(card).toHaveTextContent('акцент')
    expect(card).not.toHaveTextContent('emphasis')
  })
})
