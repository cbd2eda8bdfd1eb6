import { useTranslation } from '@/i18n/react'

import { layoutLabels } from './chart-layout'
import { useEffect, useRef, useState } from 'react'

import { isSingleEdit } from '@/lib/flow'
import type { Iteration } from '@/lib/types'

interface Props {
  iterations: Iteration[]
  bestIndex: number | null
  target?: number | null
  /** The last round the run plans to reach, so the x-axis does not rescale every round. */
  plannedRounds?: number
}

const H = 200
const PAD = { left: 32, right: 14, top: 16, bottom: 28 }
const INSET = 18

/** The width of an element, followed as it changes (the chart is drawn at its real size). */
function useWidth() {
  const ref = useRef<HTMLElement>(null)
  const [width, setWidth] = useState(640)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const measure = () => setWidth(Math.max(240, Math.floor(el.clientWidth)))
    measure()
    if (typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  return [ref, width] as const
}

/**
 * Judge score per round: one dot per candidate, the line through each round's top score, the
 * incumbent best ringed, failures marked ✕. Drawn at the box's own width, so it fits a phone.
 */
export function ScoreChart({ iterations, bestIndex, target, plannedRounds }: Props) {
  const { t } = useTranslation()
  const [ref, W] = useWidth()
  if (iterations.length === 0) return null
  // Single edits ("Edit this image") are no round of the loop: they get a column of their own
  // after the last round, and the line through each round's top score leaves them out.
  const loopRound = (it: Iteration) => it.round ?? it.index
  const lastRound = Math.max(
    plannedRounds ?? 0,
    ...iterations.filter((it) => !isSingleEdit(it)).map(loopRound),
    1,
  )
  const editsAt = iterations.some(isSingleEdit) ? lastRound + 1 : null
  const roundOf = (it: Iteration) => (isSingleEdit(it) ? lastRound + 1 : loopRound(it))
  const maxRound = editsAt ?? lastRound
  const perRound = new Map<number, Iteration[]>()
  for (const it of iterations) perRound.set(roundOf(it), [...(perRound.get(roundOf(it)) ?? []), it])
  // Rounds sit inside the axes (INSET from each side), so a label over the first point never meets
  // the score ticks.
  const xr = (r: number) => PAD.left + INSET + (r / maxRound) * (W - PAD.left - PAD.right - 2 * INSET)
  const x = (it: Iteration) => {
    const siblings = perRound.get(roundOf(it)) ?? [it]
    const offset = siblings.length > 1 ? (siblings.indexOf(it) - (siblings.length - 1) / 2) * 8 : 0
    return xr(roundOf(it)) + offset
  }
  const y = (score: number) => PAD.top + (1 - score / 100) * (H - PAD.top - PAD.bottom)
  const scored = iterations.filter((it) => it.status === 'ok' && it.judge_score != null)
  const tops = [...perRound.entries()]
    .filter(([r]) => r !== editsAt)
    .sort((a, b) => a[0] - b[0])
    .map(([r, its]) => {
      const s = its.filter((it) => it.status === 'ok' && it.judge_score != null).map((it) => it.judge_score!)
      return s.length ? `${xr(r).toFixed(1)},${y(Math.max(...s)).toFixed(1)}` : null
    })
    .filter(Boolean)
    .join(' ')
  const summary = scored.map((it) => `#${it.index}: ${it.judge_score}`).join(', ')
  // Score labels over the best point and single-candidate rounds, placed clear of the target label.
  const labelled = scored.filter(
    (it) => it.index === bestIndex || (perRound.get(roundOf(it))?.length ?? 1) === 1,
  )
  const labels = layoutLabels(
    labelled.map((it) => ({
      key: String(it.index),
      x: x(it),
      y: y(it.judge_score!),
      text: String(it.judge_score),
    })),
    target != null
      ? { y: y(target), text: t('chart.target', { n: target }), left: PAD.left, right: W - PAD.right }
      : null,
  )
  const tick = Math.max(1, Math.ceil(maxRound / Math.floor((W - PAD.left - 2 * INSET) / 40)))

  return (
    <figure ref={ref} className="w-full">
      <svg
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={t('chart.aria', { summary: summary || t('chart.noScores') })}
        className="block h-auto max-w-full"
        data-testid="score-chart"
      >
        {[0, 25, 50, 75, 100].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} stroke="#27272a" strokeWidth={1} />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" fontSize={11} fill="#a1a1aa">
              {v}
            </text>
          </g>
        ))}
        {target != null && labels.target && (
          <g>
            <line
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(target)}
              y2={y(target)}
              stroke="#34d399"
              strokeDasharray="4 4"
              strokeWidth={1}
              opacity={0.7}
            />
            <text
              x={labels.target.x}
              y={labels.target.y}
              textAnchor={labels.target.anchor}
              fontSize={11}
              fill="#6ee7b7"
              data-testid="target-label"
            >
              {labels.target.text}
            </text>
          </g>
        )}
        {Array.from({ length: maxRound + 1 }, (_, r) => r)
          .filter((r) => r % tick === 0)
          .map((r) => (
            <text key={`r-${r}`} x={xr(r)} y={H - 8} textAnchor="middle" fontSize={11} fill="#d4d4d8">
              {r === editsAt ? t('chart.edits') : r === 0 ? t('chart.first') : t('chart.round', { n: r })}
            </text>
          ))}
        {tops.includes(' ') && (
          <polyline points={tops} fill="none" stroke="#a78bfa" strokeWidth={2.5} strokeLinejoin="round" />
        )}
        {iterations.map((it) => {
          if (it.status === 'ok' && it.judge_score == null) return null
          if (it.status !== 'ok' || it.judge_score == null) {
            return (
              <text key={it.index} x={x(it)} y={y(0) - 4} textAnchor="middle" fontSize={14} fill="#fb7185">
                ✕<title>{t('chart.failed', { n: it.index })}</title>
              </text>
            )
          }
          const best = it.index === bestIndex
          return (
            <g key={it.index}>
              {best && (
                <circle
                  cx={x(it)}
                  cy={y(it.judge_score)}
                  r={10}
                  fill="none"
                  stroke="#fbbf24"
                  strokeWidth={1.5}
                />
              )}
              <circle
                cx={x(it)}
                cy={y(it.judge_score)}
                r={best ? 5.5 : 4}
                fill={best ? '#fbbf24' : '#c4b5fd'}
              >
                <title>{`#${it.index}: ${it.judge_score}`}</title>
              </circle>
            </g>
          )
        })}
        {labels.points.map((l) => (
          <text
            key={`l-${l.key}`}
            x={l.x}
            y={l.y}
            textAnchor={l.anchor}
            fontSize={11}
            fill="#e4e4e7"
            data-label={l.key}
          >
            {l.text}
          </text>
        ))}
      </svg>
    </figure>
  )
}
