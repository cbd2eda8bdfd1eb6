// The FLEX grammar's shared test vectors (tests/fixtures/flex_vectors.json, also run by pytest
// against the API's flex_service): the editor accepts and refuses exactly what the API does.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { describe, expect, it } from 'vitest'

import { blockValues, parseFlex, serialize } from './flex'

interface Vectors {
  valid: { name: string; text: string; blocks: Record<string, string> }[]
  invalid: { name: string; text: string; line: number }[]
}

const vectors = JSON.parse(
  // Vitest runs in frontend/; the vectors live with the backend tests.
  readFileSync(resolve(process.cwd(), '../tests/fixtures/flex_vectors.json'), 'utf8'),
) as Vectors

describe('FLEX vectors shared with the API', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('accepts %s', (_, v) => {
    const parsed = parseFlex(v.text)
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(blockValues(v.text)).toEqual(v.blocks)
    expect(serialize(parsed.segments)).toBe(v.text)
  })

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('refuses %s at its line', (_, v) => {
    const parsed = parseFlex(v.text)
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.error.line).toBe(v.line)
  })
})
