import type { Iteration } from '@/lib/types'

interface Props {
  iterations: Iteration[]
  bestIndex: number | null
  target?: number | null
}

const W = 720
const H = 200
const PAD = { left: 36, right: 16, top: 14, bottom: 28 }

/** Judge score per iteration as a small hand-drawn SVG line chart (failed iterations marked ✕). */
export function ScoreChart({ iterations, bestIndex, target }: Props) {
  if (iterations.length === 0) return null
  const indices = iterations.map((it) => it.index)
  const minI = Math.min(...indices)
  const maxI = Math.max(...indices)
  const span = Math.max(1, maxI - minI)
  const x = (i: number) => PAD.left + ((i - minI) / span) * (W - PAD.left - PAD.right)
  const y = (score: number) => PAD.top + (1 - score / 100) * (H - PAD.top - PAD.bottom)
  const scored = iterations.filter((it) => it.status === 'ok' && it.judge_score != null)
  const line = scored.map((it) => `${x(it.index).toFixed(1)},${y(it.judge_score!).toFixed(1)}`).join(' ')
  const summary = scored.map((it) => `#${it.index}: ${it.judge_score}`).join(', ')

  return (
    <figure className="w-full max-w-3xl overflow-x-auto">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Score by iteration. ${summary || 'No scores yet.'}`}
        className="h-auto w-full min-w-[520px]"
        data-testid="score-chart"
      >
        <defs>
          <linearGradient id="score-line" x1="0" x2="1" y1="0" y2="0">
            <stop offset="0%" stopColor="#a78bfa" />
            <stop offset="100%" stopColor="#fbbf24" />
          </linearGradient>
        </defs>
        {[0, 25, 50, 75, 100].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} stroke="#27272a" strokeWidth={1} />
            <text x={PAD.left - 8} y={y(v) + 4} textAnchor="end" fontSize={11} fill="#71717a">
              {v}
            </text>
          </g>
        ))}
        {target != null && (
          <g>
            <line
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(target)}
              y2={y(target)}
              stroke="#34d399"
              strokeDasharray="4 4"
              strokeWidth={1}
              opacity={0.6}
            />
            <text
              x={W - PAD.right}
              y={y(target) - 4}
              textAnchor="end"
              fontSize={10}
              fill="#34d399"
              opacity={0.8}
            >
              target {target}
            </text>
          </g>
        )}
        {scored.length > 1 && (
          <polyline
            points={line}
            fill="none"
            stroke="url(#score-line)"
            strokeWidth={2.5}
            strokeLinejoin="round"
          />
        )}
        {iterations.map((it) => (
          <text
            key={`label-${it.index}`}
            x={x(it.index)}
            y={H - 8}
            textAnchor="middle"
            fontSize={11}
            fill="#a1a1aa"
          >
            #{it.index}
          </text>
        ))}
        {iterations.map((it) => {
          // An image not judged yet (score pending) has no point; only failures get a mark.
          if (it.status === 'ok' && it.judge_score == null) return null
          if (it.status !== 'ok' || it.judge_score == null) {
            return (
              <text
                key={it.index}
                x={x(it.index)}
                y={y(0) - 4}
                textAnchor="middle"
                fontSize={14}
                fill="#fb7185"
              >
                ✕<title>{`Iteration ${it.index} failed`}</title>
              </text>
            )
          }
          const best = it.index === bestIndex
          return (
            <g key={it.index}>
              {best && (
                <circle
                  cx={x(it.index)}
                  cy={y(it.judge_score)}
                  r={10}
                  fill="none"
                  stroke="#fbbf24"
                  strokeWidth={1.5}
                />
              )}
              <circle
                cx={x(it.index)}
                cy={y(it.judge_score)}
                r={best ? 5.5 : 4}
                fill={best ? '#fbbf24' : '#c4b5fd'}
              />
              <text
                x={x(it.index)}
                y={y(it.judge_score) - 12}
                textAnchor="middle"
                fontSize={11}
                fill="#e4e4e7"
              >
                {it.judge_score}
              </text>
            </g>
          )
        })}
      </svg>
    </figure>
  )
}
