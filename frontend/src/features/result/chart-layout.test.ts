import { describe, expect, it } from 'vitest'

import { type ChartPoint, layoutLabels, overlaps } from './chart-layout'

// The chart's own geometry (score-chart.tsx): height 200, 32 px on the left, 14 on the right.
const H = 200
const PAD = { left: 32, right: 14, top: 16, bottom: 28 }
const y = (score: number) => PAD.top + (1 - score / 100) * (H - PAD.top - PAD.bottom)

/** The labelled points of a run whose rounds reach the right edge, as the chart draws them. */
function chart(width: number, scores: number[], targetScore = 90) {
  const xr = (r: number) => PAD.left + 18 + (r / (scores.length - 1)) * (width - PAD.left - PAD.right - 36)
  const points: ChartPoint[] = scores.map((s, r) => ({ key: `#${r}`, x: xr(r), y: y(s), text: String(s) }))
  const target = {
    y: y(targetScore),
    text: `target ${targetScore}`,
    left: PAD.left,
    right: width - PAD.right,
  }
  return layoutLabels(points, target)
}

function collisions(layout: ReturnType<typeof layoutLabels>) {
  const all = [...layout.points, ...(layout.target ? [layout.target] : [])]
  const found: string[] = []
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++)
      if (overlaps(all[i], all[j])) found.push(`${all[i].key}/${all[j].key}`)
  return found
}

// The chart box is about 1,330 px wide on a 1440 px desktop and 324 px on a 390 px phone.
for (const width of [1330, 324]) {
  describe(`score chart labels at ${width} px`, () => {
    it('keep the best point label off the "target 90" label (the issue: best 88 in the last round)', () => {
      const layout = chart(width, [62, 74, 81, 88])
      expect(collisions(layout)).toEqual([])
      // The target label is still drawn, right of the chart, and the best's score too.
      expect(layout.target?.text).toBe('target 90')
      expect(layout.points.map((p) => p.text)).toContain('88')
    })

    it('never collide, whatever the scores (a sweep over runs near the target)', () => {
      for (let a = 40; a <= 100; a += 3)
        for (let b = 70; b <= 100; b += 2) {
          const layout = chart(width, [a, b, 100 - (a % 7), b], 90)
          expect(collisions(layout), `${a},${b}`).toEqual([])
        }
    })

    it('leave labels where they were when nothing is in the way', () => {
      const layout = chart(width, [20, 30, 40])
      expect(layout.target?.y).toBe(y(90) - 4)
      expect(layout.points.every((p, i) => p.y === y([20, 30, 40][i]) - 12)).toBe(true)
    })
  })
}
