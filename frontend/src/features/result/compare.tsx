import { useTranslation } from '@/i18n/react'
import { useMemo, useState } from 'react'

import { IterationImage } from '@/components/iteration-image'
import { ScoreBadge } from '@/components/status-badge'
import { diffPrompts } from '@/lib/diff'
import { blockLabel } from '@/lib/flex'
import type { Iteration } from '@/lib/types'

import { WordDiff } from './word-diff'

interface Props {
  iterations: Iteration[]
  bestIndex: number | null
}

function Picker({
  label,
  value,
  options,
  onChange,
}: {
  label: string
  value: number
  options: Iteration[]
  onChange: (v: number) => void
}) {
  const { t } = useTranslation()
  return (
    <label className="flex items-center gap-2 text-sm text-zinc-300">
      {label}
      <select
        aria-label={t('compare.pick', { label })}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
        className="h-11 rounded-lg border border-zinc-700 bg-zinc-950 px-2 text-sm text-zinc-100 sm:h-9"
      >
        {options.map((it) => (
          <option key={it.index} value={it.index}>
            #{it.index}{' '}
            {it.status === 'failed'
              ? t('compare.failed')
              : it.judge_score != null
                ? `· ${it.judge_score}`
                : ''}
          </option>
        ))}
      </select>
    </label>
  )
}

/** Two iterations side by side, with a block-by-block word diff of their prompts. */
export function Compare({ iterations, bestIndex }: Props) {
  const { t } = useTranslation()
  const first = iterations[0]?.index ?? 0
  const last = bestIndex ?? iterations[iterations.length - 1]?.index ?? 0
  const [a, setA] = useState(first)
  const [b, setB] = useState(
    last === first && iterations.length > 1 ? iterations[iterations.length - 1].index : last,
  )
  const left = iterations.find((it) => it.index === a) ?? iterations[0]
  const right = iterations.find((it) => it.index === b) ?? iterations[iterations.length - 1]
  const diff = useMemo(
    () => (left && right ? diffPrompts(left.prompt_text, right.prompt_text) : null),
    [left, right],
  )
  if (!left || !right || !diff) return null

  return (
    <div className="space-y-4" data-testid="compare">
      <div className="flex flex-wrap items-center gap-4">
        <Picker label="A" value={left.index} options={iterations} onChange={setA} />
        <span className="text-zinc-400">{t('compare.vs')}</span>
        <Picker label="B" value={right.index} options={iterations} onChange={setB} />
      </div>
      <div className="grid grid-cols-2 gap-3">
        {[left, right].map((it, i) => (
          <div key={i} className="space-y-2">
            <div className="flex items-center justify-between text-sm text-zinc-300">
              <span>
                {i === 0 ? 'A' : 'B'} · #{it.index}
              </span>
              <ScoreBadge score={it.judge_score} />
            </div>
            <IterationImage iteration={it} className="max-h-56" />
          </div>
        ))}
      </div>
      {diff.structured ? (
        <div className="grid gap-2 lg:grid-cols-2">
          {diff.frameChanged && <p className="text-xs text-amber-300 lg:col-span-2">{t('compare.frame')}</p>}
          {diff.blocks.map((block) => (
            <div
              key={block.name}
              data-block={block.name}
              data-changed={block.changed}
              className="rounded-lg border border-zinc-800 p-3"
            >
              <div className="mb-1 flex items-center justify-between text-xs">
                <span className="font-medium text-zinc-200">{blockLabel(block.name)}</span>
                <span className={block.changed ? 'text-amber-300' : 'text-zinc-400'}>
                  {block.before === null
                    ? t('compare.added')
                    : block.after === null
                      ? t('compare.removed')
                      : block.changed
                        ? t('compare.changed')
                        : t('compare.unchanged')}
                </span>
              </div>
              {block.changed ? (
                <WordDiff ops={block.ops} />
              ) : (
                <p className="text-sm text-zinc-400">{block.after}</p>
              )}
            </div>
          ))}
        </div>
      ) : (
        <WordDiff ops={diff.raw} />
      )}
    </div>
  )
}
