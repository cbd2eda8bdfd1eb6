import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import { makeIteration } from '@/test/fixtures'

import { ScoreChart } from './score-chart'

/** The x of the dot whose tooltip is `#n: score`. */
const dotX = (n: number) => {
  const title = [...document.querySelectorAll('circle > title')].find((el) =>
    el.textContent?.startsWith(`#${n}:`),
  )
  return Number(title?.parentElement?.getAttribute('cx'))
}

describe('the score chart with a single edit', () => {
  it('puts the edit in a column of its own after the rounds, off the line through the rounds', () => {
    const iterations = [
      makeIteration(0, { round: 0, judge_score: 60 }),
      makeIteration(1, { round: 1, judge_score: 70 }),
      makeIteration(2, { round: 0, judge_score: 95, edited_from: 1 }),
    ]
    render(<ScoreChart iterations={iterations} bestIndex={2} />)
    const axis = [...screen.getByTestId('score-chart').querySelectorAll('text[y="192"]')].map(
      (t) => t.textContent,
    )
    expect(axis).toEqual(['first', 'R1', 'edits'])
    expect(dotX(2)).toBeGreaterThan(dotX(1))
    expect(dotX(0)).toBeLessThan(dotX(1))
    // The line joins the rounds' top scores only: first (60) and R1 (70), not the edit's 95.
    const line = document.querySelector('polyline')?.getAttribute('points') ?? ''
    expect(line.split(' ')).toHaveLength(2)
  })

  it('has no edits column without an edit', () => {
    render(
      <ScoreChart
        iterations={[makeIteration(0, { round: 0 }), makeIteration(1, { round: 1 })]}
        bestIndex={1}
      />,
    )
    expect(screen.getByTestId('score-chart')).not.toHaveTextContent('edits')
  })
})
