// Where the score chart's text labels go, as a pure function: the score over a point and the
// "target 90" label must never sit on each other (issue 17: the best point's label on the target's).

/** A label's box in SVG units: x/y is the anchor (baseline), `anchor` as in SVG's text-anchor. */
export interface LabelBox {
  key: string
  x: number
  y: number
  text: string
  anchor: 'start' | 'middle' | 'end'
}

const FONT = 11
const CHAR_W = 6.6 // a generous average glyph width at 11 px (digits and Cyrillic)
const GAP = 2

/** The rectangle a label covers: [left, top, right, bottom]. */
export function boxOf(label: LabelBox): [number, number, number, number] {
  const w = label.text.length * CHAR_W
  const left = label.anchor === 'start' ? label.x : label.anchor === 'middle' ? label.x - w / 2 : label.x - w
  return [left, label.y - FONT, left + w, label.y + 3]
}

export function overlaps(a: LabelBox, b: LabelBox): boolean {
  const [al, at, ar, ab] = boxOf(a)
  const [bl, bt, br, bb] = boxOf(b)
  return al < br + GAP && bl < ar + GAP && at < bb + GAP && bt < ab + GAP
}

export interface ChartPoint {
  key: string
  x: number
  y: number
  text: string
}

/**
 * Places the point labels (above their point, else below it) and the target label (above its line
 * at the right edge, else below it, else at the left edge), so no two labels overlap.
 */
export function layoutLabels(
  points: ChartPoint[],
  target: { y: number; text: string; left: number; right: number } | null,
): { points: LabelBox[]; target: LabelBox | null } {
  const placed: LabelBox[] = []
  for (const p of points) {
    const above: LabelBox = { key: p.key, x: p.x, y: p.y - 12, text: p.text, anchor: 'middle' }
    const below: LabelBox = { ...above, y: p.y + 20 }
    placed.push(placed.some((q) => overlaps(q, above)) ? below : above)
  }
  if (!target) return { points: placed, target: null }
  const spots: LabelBox[] = [
    { key: 'target', x: target.right, y: target.y - 4, text: target.text, anchor: 'end' },
    { key: 'target', x: target.right, y: target.y + 14, text: target.text, anchor: 'end' },
    { key: 'target', x: target.left + 4, y: target.y - 4, text: target.text, anchor: 'start' },
    { key: 'target', x: target.left + 4, y: target.y + 14, text: target.text, anchor: 'start' },
  ]
  const free = spots.find((s) => !placed.some((p) => overlaps(p, s)))
  if (free) return { points: placed, target: free }
  // Crowded on both sides: the points' labels give way (below their points) to the target's.
  const spot = spots[0]
  return {
    points: placed.map((p) => (overlaps(p, spot) ? { ...p, y: p.y + 32 } : p)),
    target: spot,
  }
}
