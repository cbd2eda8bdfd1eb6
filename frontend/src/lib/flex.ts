// FLEX block parser and editor (README "How it works": FLEX blocks; the server's is app/services/flex_service.py).
//
// A prompt is a "frame" with named blocks inside it:
//   ## FLEX_BEGIN:subject
//   a red fox curled up asleep in fresh snow
//   ## FLEX_END:subject
// Everything outside block bodies (marker lines included) is the frame. Editing a block must leave the
// frame byte-for-byte as it was, so the text is split into exact slices that join back to the input,
// and an edit only ever swaps one body slice.

// The one grammar, the same as the API's flex_service (tests/flex_vectors.json checks both):
// a marker is exactly "## FLEX_BEGIN:name" / "## FLEX_END:name" at the start of the line, with a
// lower-case name; any other line that looks like a marker is an error, not text.
import { i18n, t } from '@/i18n'

const BEGIN = /^## FLEX_BEGIN:([a-z][a-z0-9_]*)[ \t]*\r?$/
const END = /^## FLEX_END:([a-z][a-z0-9_]*)[ \t]*\r?$/
const MARKER = /^\s*##\s*FLEX_(BEGIN|END)\b/i

export interface FrameSegment {
  kind: 'frame'
  text: string
}

export interface BlockSegment {
  kind: 'block'
  name: string
  /** The exact body slice between the BEGIN line's newline and the END line's first character. */
  body: string
  /** Line number (1-based) of the BEGIN marker. */
  line: number
}

export type Segment = FrameSegment | BlockSegment

export type ParseResult =
  { ok: true; segments: Segment[]; names: string[] } | { ok: false; error: { line: number; message: string } }

interface Line {
  text: string // without its line break
  start: number // offset of the first character
  next: number // offset just past its line break
}

function splitLines(text: string): Line[] {
  const lines: Line[] = []
  let start = 0
  while (start < text.length) {
    const nl = text.indexOf('\n', start)
    const stop = nl === -1 ? text.length : nl
    lines.push({ text: text.slice(start, stop), start, next: nl === -1 ? text.length : nl + 1 })
    start = stop + 1
  }
  return lines
}

/** Split a prompt into frame and block slices; `serialize(segments)` returns the input exactly. */
export function parseFlex(text: string): ParseResult {
  const segments: Segment[] = []
  const names: string[] = []
  let frameStart = 0
  let open: { name: string; bodyStart: number; line: number } | null = null
  const lines = splitLines(text)
  for (let i = 0; i < lines.length; i++) {
    const { text: lineText, start, next } = lines[i]
    const begin = BEGIN.exec(lineText)
    const end = END.exec(lineText)
    if (!open) {
      if (begin) {
        if (names.includes(begin[1])) return fail(i + 1, `block "${begin[1]}" appears twice`)
        pushFrame(segments, text.slice(frameStart, next))
        open = { name: begin[1], bodyStart: next, line: i + 1 }
      } else if (end || MARKER.test(lineText)) {
        return fail(
          i + 1,
          end
            ? `FLEX_END:${end[1]} has no matching FLEX_BEGIN`
            : 'this marker is malformed (write "## FLEX_BEGIN:name" with a lower-case name)',
        )
      }
    } else if (end && end[1] === open.name) {
      segments.push({
        kind: 'block',
        name: open.name,
        body: text.slice(open.bodyStart, start),
        line: open.line,
      })
      names.push(open.name)
      frameStart = start
      open = null
    } else if (MARKER.test(lineText)) {
      return fail(i + 1, `block "${open.name}" is not closed here (expected FLEX_END:${open.name})`)
    }
  }
  if (open) return fail(open.line, `block "${open.name}" has no FLEX_END`)
  pushFrame(segments, text.slice(frameStart))
  return { ok: true, segments, names }
}

function fail(line: number, message: string): ParseResult {
  return { ok: false, error: { line, message } }
}

function pushFrame(segments: Segment[], text: string) {
  if (!text) return
  const last = segments[segments.length - 1]
  if (last?.kind === 'frame') last.text += text
  else segments.push({ kind: 'frame', text })
}

export function serialize(segments: Segment[]): string {
  return segments.map((s) => (s.kind === 'frame' ? s.text : s.body)).join('')
}

/** The frame alone: every byte that is not inside a block body. */
export function frameOf(segments: Segment[]): string {
  return segments.map((s) => (s.kind === 'frame' ? s.text : '\u0000')).join('')
}

function lineBreakOf(body: string): string {
  return body.endsWith('\r\n') ? '\r\n' : '\n'
}

/** What a person edits: the body without the single line break that precedes the END marker. */
export function blockValue(body: string): string {
  if (body.endsWith('\r\n')) return body.slice(0, -2)
  if (body.endsWith('\n')) return body.slice(0, -1)
  return body
}

/** The body slice for an edited value (adds back the line break before the END marker). */
export function bodyFromValue(value: string, previousBody = ''): string {
  if (value === '') return ''
  return value + lineBreakOf(previousBody)
}

/** Map of block name to its editable value. */
export function blockValues(text: string): Record<string, string> {
  const parsed = parseFlex(text)
  if (!parsed.ok) return {}
  const out: Record<string, string> = {}
  for (const s of parsed.segments) if (s.kind === 'block') out[s.name] = blockValue(s.body)
  return out
}

/** Replace one block's value; the frame and every other block stay byte-identical. */
export function setBlock(text: string, name: string, value: string): string {
  const parsed = parseFlex(text)
  if (!parsed.ok) throw new Error(`cannot edit block "${name}": ${parsed.error.message}`)
  let found = false
  const segments = parsed.segments.map((s) => {
    if (s.kind !== 'block' || s.name !== name) return s
    found = true
    return { ...s, body: bodyFromValue(value, s.body) }
  })
  if (!found) throw new Error(`no block named "${name}"`)
  return serialize(segments)
}

/** Keep only locks that name a block present in the text (order of appearance, no duplicates). */
export function normalizeLocks(text: string, locked: Iterable<string>): string[] {
  const parsed = parseFlex(text)
  if (!parsed.ok) return [...new Set(locked)]
  const wanted = new Set(locked)
  return parsed.names.filter((n) => wanted.has(n))
}

export function toggleLock(locked: string[], name: string): string[] {
  return locked.includes(name) ? locked.filter((n) => n !== name) : [...locked, name]
}

/**
 * A block's name as a person reads it, in the language on screen: the known blocks have a label in
 * the catalogue ("negative_constraints" -> "Avoid" / "Чего избегать"); others are their name in words.
 */
export function blockLabel(name: string): string {
  if (i18n.exists(`blocks.${name}`)) return t(`blocks.${name}`)
  const words = name.replace(/[_-]+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}
