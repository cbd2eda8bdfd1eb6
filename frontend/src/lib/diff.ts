// Prompt diffs: word-level diff of two strings, and a block-by-block comparison of two FLEX prompts.
import { blockValue, frameOf, parseFlex } from './flex'

export type DiffOp = { type: 'same' | 'added' | 'removed'; text: string }

/** Words, punctuation runs and whitespace, so joining the tokens restores the text. */
export function tokenize(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}_'-]+|[^\s\p{L}\p{N}_'-]+/gu) ?? []
}

// Past this many token pairs the LCS table gets slow; fall back to "all removed, all added".
const MAX_CELLS = 4_000_000

/** Word-level diff (longest common subsequence over tokens), adjacent ops of one type merged. */
export function diffWords(before: string, after: string): DiffOp[] {
  const a = tokenize(before)
  const b = tokenize(after)
  const ops: DiffOp[] = []
  if ((a.length + 1) * (b.length + 1) > MAX_CELLS) {
    push(ops, 'removed', before)
    push(ops, 'added', after)
    return ops
  }
  // lcs[i][j] = length of the LCS of a[i:] and b[j:], stored flat.
  const w = b.length + 1
  const lcs = new Uint32Array((a.length + 1) * w)
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] =
        a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
    }
  }
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push(ops, 'same', a[i++])
      j++
    } else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
      push(ops, 'removed', a[i++])
    } else {
      push(ops, 'added', b[j++])
    }
  }
  while (i < a.length) push(ops, 'removed', a[i++])
  while (j < b.length) push(ops, 'added', b[j++])
  return groupChanges(ops)
}

/**
 * Readability pass: a whitespace-only "same" between two changes is folded into them, and each run
 * of changes becomes one removed + one added op ("soft light" -> "warm rim light" reads as
 * -"soft" +"warm rim", not -"soft" +"warm" " " +"rim ").
 */
function groupChanges(ops: DiffOp[]): DiffOp[] {
  const out: DiffOp[] = []
  let removed = ''
  let added = ''
  const flush = () => {
    // Whitespace both sides share at the edges of a change is not part of it.
    const lead = sharedWhitespace(removed, added, 'start')
    const trail = sharedWhitespace(removed.slice(lead.length), added.slice(lead.length), 'end')
    push(out, 'same', lead)
    push(out, 'removed', removed.slice(lead.length, removed.length - trail.length))
    push(out, 'added', added.slice(lead.length, added.length - trail.length))
    push(out, 'same', trail)
    removed = added = ''
  }
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k]
    const inRun = removed !== '' || added !== ''
    if (op.type === 'removed') removed += op.text
    else if (op.type === 'added') added += op.text
    else if (inRun && /^\s+$/.test(op.text) && k + 1 < ops.length && ops[k + 1].type !== 'same') {
      removed += op.text
      added += op.text
    } else {
      flush()
      push(out, 'same', op.text)
    }
  }
  flush()
  return out
}

function sharedWhitespace(a: string, b: string, side: 'start' | 'end'): string {
  if (!a || !b) return ''
  const re = side === 'start' ? /^\s+/ : /\s+$/
  const x = re.exec(a)?.[0] ?? ''
  const y = re.exec(b)?.[0] ?? ''
  let n = 0
  while (n < x.length && n < y.length) {
    const cx = side === 'start' ? x[n] : x[x.length - 1 - n]
    const cy = side === 'start' ? y[n] : y[y.length - 1 - n]
    if (cx !== cy) break
    n++
  }
  return side === 'start' ? x.slice(0, n) : x.slice(x.length - n)
}

function push(ops: DiffOp[], type: DiffOp['type'], text: string) {
  if (!text) return
  const last = ops[ops.length - 1]
  if (last && last.type === type) last.text += text
  else ops.push({ type, text })
}

export interface BlockDiff {
  name: string
  before: string | null // null: the block is not in the earlier prompt
  after: string | null
  changed: boolean
  ops: DiffOp[]
}

export interface PromptDiff {
  /** False when either prompt's FLEX markup does not parse; then only `raw` is meaningful. */
  structured: boolean
  blocks: BlockDiff[]
  frameChanged: boolean
  raw: DiffOp[]
}

/** Compare two prompts block by block (order: the earlier prompt's blocks, then new ones). */
export function diffPrompts(before: string, after: string): PromptDiff {
  const a = parseFlex(before)
  const b = parseFlex(after)
  const raw = diffWords(before, after)
  if (!a.ok || !b.ok) return { structured: false, blocks: [], frameChanged: before !== after, raw }
  const valuesA = new Map<string, string>()
  const valuesB = new Map<string, string>()
  for (const s of a.segments) if (s.kind === 'block') valuesA.set(s.name, blockValue(s.body))
  for (const s of b.segments) if (s.kind === 'block') valuesB.set(s.name, blockValue(s.body))
  const names = [...a.names, ...b.names.filter((n) => !valuesA.has(n))]
  const blocks = names.map((name) => {
    const x = valuesA.get(name) ?? null
    const y = valuesB.get(name) ?? null
    return { name, before: x, after: y, changed: x !== y, ops: diffWords(x ?? '', y ?? '') }
  })
  return { structured: true, blocks, frameChanged: frameOf(a.segments) !== frameOf(b.segments), raw }
}
