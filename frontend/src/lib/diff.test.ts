import { describe, expect, it } from 'vitest'

import { diffPrompts, diffWords, tokenize } from './diff'

const join = (ops: { type: string; text: string }[], keep: 'before' | 'after') =>
  ops
    .filter((op) => op.type === 'same' || op.type === (keep === 'before' ? 'removed' : 'added'))
    .map((op) => op.text)
    .join('')

const prompt = (subject: string, lighting: string, extra = '') =>
  `# note\n## FLEX_BEGIN:subject\n${subject}\n## FLEX_END:subject\n## FLEX_BEGIN:lighting\n${lighting}\n## FLEX_END:lighting\n${extra}`

describe('diffWords', () => {
  it('marks changed words and keeps the rest', () => {
    const ops = diffWords('soft diffused daylight', 'warm golden-hour daylight')
    expect(ops).toEqual([
      { type: 'removed', text: 'soft diffused' },
      { type: 'added', text: 'warm golden-hour' },
      { type: 'same', text: ' daylight' },
    ])
  })

  it('rebuilds both texts exactly from the ops', () => {
    const a = 'a red fox  asleep\nin fresh snow, at dawn'
    const b = 'a red fox awake\nin deep snow at dusk, looking up'
    const ops = diffWords(a, b)
    expect(join(ops, 'before')).toBe(a)
    expect(join(ops, 'after')).toBe(b)
  })

  it('handles empty sides and identical text', () => {
    expect(diffWords('', 'new words')).toEqual([{ type: 'added', text: 'new words' }])
    expect(diffWords('old', '')).toEqual([{ type: 'removed', text: 'old' }])
    expect(diffWords('same text', 'same text')).toEqual([{ type: 'same', text: 'same text' }])
    expect(tokenize('a  b\nc')).toEqual(['a', '  ', 'b', '\n', 'c'])
  })
})

describe('diffPrompts', () => {
  it('compares block by block and says which changed', () => {
    const d = diffPrompts(prompt('a fox', 'soft light'), prompt('a fox', 'warm rim light'))
    expect(d.structured).toBe(true)
    expect(d.frameChanged).toBe(false)
    expect(d.blocks.map((b) => [b.name, b.changed])).toEqual([
      ['subject', false],
      ['lighting', true],
    ])
    const lighting = d.blocks[1]
    expect(lighting.ops.filter((o) => o.type === 'added').map((o) => o.text)).toEqual(['warm rim'])
  })

  it('lists added blocks and notices frame changes', () => {
    const before = prompt('a fox', 'soft light')
    const after = prompt('a fox', 'soft light', '## FLEX_BEGIN:camera\n85mm\n## FLEX_END:camera\n')
    const d = diffPrompts(before, after)
    expect(d.blocks.map((b) => b.name)).toEqual(['subject', 'lighting', 'camera'])
    expect(d.blocks[2]).toMatchObject({ before: null, after: '85mm', changed: true })
    expect(diffPrompts(before, before.replace('# note', '# other note')).frameChanged).toBe(true)
  })

  it('falls back to a raw word diff when markup is broken', () => {
    const d = diffPrompts('## FLEX_BEGIN:a\nx', 'plain y')
    expect(d.structured).toBe(false)
    expect(d.raw.length).toBeGreaterThan(0)
  })
})

describe('tokenize', () => {
  it('splits punctuation from words so "nose" and "nose," share the word', () => {
    expect(tokenize('its nose, warm')).toEqual(['its', ' ', 'nose', ',', ' ', 'warm'])
    expect(diffWords('over its nose', 'over its nose, with dawn')).toEqual([
      { type: 'same', text: 'over its nose' },
      { type: 'added', text: ', with dawn' },
    ])
  })
})
