import type { DiffOp } from '@/lib/diff'

/** Word-level diff: removed words struck through in rose, added words in green. */
export function WordDiff({ ops }: { ops: DiffOp[] }) {
  return (
    <p className="text-sm leading-relaxed break-words whitespace-pre-wrap text-zinc-300">
      {ops.map((op, i) =>
        op.type === 'same' ? (
          <span key={i}>{op.text}</span>
        ) : op.type === 'removed' ? (
          <del key={i} className="rounded bg-rose-950/70 px-0.5 text-rose-300 decoration-rose-400/70">
            {op.text}
          </del>
        ) : (
          <ins key={i} className="rounded bg-emerald-950/70 px-0.5 text-emerald-200 no-underline">
            {op.text}
          </ins>
        ),
      )}
    </p>
  )
}
