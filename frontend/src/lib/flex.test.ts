import { describe, expect, it } from 'vitest'

import {
  blockLabel,
  blockValue,
  blockValues,
  frameOf,
  normalizeLocks,
  parseFlex,
  serialize,
  setBlock,
  toggleLock,
} from './flex'

const PROMPT = [
  '# SFUMATO prompt: lines starting with # are notes.',
  '## FLEX_BEGIN:subject',
  'a red fox asleep in snow',
  '## FLEX_END:subject',
  'Frame line that must stay:  two spaces, trailing tab\t',
  '',
  '## FLEX_BEGIN:style',
  'cinematic photograph,',
  'natural colour grading',
  '## FLEX_END:style',
  '## FLEX_BEGIN:negative_constraints',
  '## FLEX_END:negative_constraints',
  'Render {{ flex.subject }} in {{ flex.style }}.',
].join('\n')

function frame(text: string) {
  const parsed = parseFlex(text)
  if (!parsed.ok) throw new Error(parsed.error.message)
  return frameOf(parsed.segments)
}

describe('parseFlex', () => {
  it('splits blocks and frame and joins back byte-for-byte', () => {
    const parsed = parseFlex(PROMPT)
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.names).toEqual(['subject', 'style', 'negative_constraints'])
    expect(serialize(parsed.segments)).toBe(PROMPT)
  })

  it('round-trips CRLF text, text without a final newline and text without blocks', () => {
    for (const text of [PROMPT.replace(/\n/g, '\r\n'), PROMPT + '\n', 'just words', '', '\n\n']) {
      const parsed = parseFlex(text)
      expect(parsed.ok).toBe(true)
      if (parsed.ok) expect(serialize(parsed.segments)).toBe(text)
    }
  })

  it('reads block values without the line break before END', () => {
    expect(blockValues(PROMPT)).toEqual({
      subject: 'a red fox asleep in snow',
      style: 'cinematic photograph,\nnatural colour grading',
      negative_constraints: '',
    })
    expect(blockValue('x\r\n')).toBe('x')
  })

  it.each([
    ['## FLEX_BEGIN:a\nx\n', 1, 'no FLEX_END'],
    ['x\n## FLEX_END:a\n', 2, 'no matching FLEX_BEGIN'],
    ['## FLEX_BEGIN:a\nx\n## FLEX_END:b\n', 3, 'expected FLEX_END:a'],
    ['## FLEX_BEGIN:a\n## FLEX_BEGIN:b\n## FLEX_END:b\n## FLEX_END:a\n', 2, 'not closed'],
    ['## FLEX_BEGIN:a\n## FLEX_END:a\n## FLEX_BEGIN:a\n## FLEX_END:a\n', 3, 'twice'],
  ])('reports broken markup with its line: %j', (text, line, message) => {
    const parsed = parseFlex(text)
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.error.line).toBe(line)
    expect(parsed.error.message).toContain(message)
  })
})

describe('setBlock', () => {
  it('changes only the edited block; the frame stays byte-identical', () => {
    const edited = setBlock(PROMPT, 'subject', 'a grey wolf howling\nunder the moon')
    expect(frame(edited)).toBe(frame(PROMPT))
    expect(blockValues(edited)).toEqual({
      ...blockValues(PROMPT),
      subject: 'a grey wolf howling\nunder the moon',
    })
    // Everything else is the very same bytes.
    expect(edited.replace('a grey wolf howling\nunder the moon', 'a red fox asleep in snow')).toBe(PROMPT)
  })

  it('fills an empty block and empties a full one without touching the markers', () => {
    const filled = setBlock(PROMPT, 'negative_constraints', 'watermark, text')
    expect(filled).toContain(
      '## FLEX_BEGIN:negative_constraints\nwatermark, text\n## FLEX_END:negative_constraints',
    )
    expect(frame(filled)).toBe(frame(PROMPT))
    const emptied = setBlock(filled, 'negative_constraints', '')
    expect(emptied).toBe(PROMPT)
  })

  it('keeps CRLF line breaks in CRLF prompts', () => {
    const crlf = PROMPT.replace(/\n/g, '\r\n')
    const edited = setBlock(crlf, 'subject', 'an owl')
    expect(edited).toContain('## FLEX_BEGIN:subject\r\nan owl\r\n## FLEX_END:subject')
    expect(frame(edited)).toBe(frame(crlf))
  })

  it('survives many random edits with the frame intact', () => {
    let text = PROMPT
    const names = ['subject', 'style', 'negative_constraints']
    const words = ['fox', '', 'snow\n', 'a\nb', '## not a marker', '  spaced  ', '{{ flex.subject }}']
    for (let i = 0; i < 200; i++) {
      const name = names[i % names.length]
      const value = words[(i * 7) % words.length] + words[(i * 3) % words.length]
      text = setBlock(text, name, value)
      expect(frame(text)).toBe(frame(PROMPT))
      expect(blockValues(text)[name]).toBe(value)
    }
  })

  it('refuses unknown blocks and broken markup', () => {
    expect(() => setBlock(PROMPT, 'camera', 'x')).toThrow(/no block named "camera"/)
    expect(() => setBlock('## FLEX_BEGIN:a\n', 'a', 'x')).toThrow(/no FLEX_END/)
  })
})

describe('locks', () => {
  it('keeps only locks of existing blocks, in prompt order, once each', () => {
    expect(normalizeLocks(PROMPT, ['style', 'camera', 'subject', 'style'])).toEqual(['subject', 'style'])
  })

  it('toggles a lock on and off', () => {
    expect(toggleLock([], 'style')).toEqual(['style'])
    expect(toggleLock(['subject', 'style'], 'subject')).toEqual(['style'])
  })

  it('labels blocks for people', () => {
    // Known blocks have a label in the catalogue (the same word the rendered prompt uses)...
    expect(blockLabel('negative_constraints')).toBe('Avoid')
    // ...any other block is its name in words.
    expect(blockLabel('colour_palette')).toBe('Colour palette')
  })
})
