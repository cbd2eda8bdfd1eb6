import { CopyButton } from '@/components/copy-button'
import { ScoreBadge } from '@/components/status-badge'
import { api } from '@/lib/api-client'
import { formatUsd, percent, renderedPromptOf } from '@/lib/flow'
import type { Iteration, Session } from '@/lib/types'

interface Props {
  session: Session
  first: Iteration | null
  best: Iteration | null
  onOpen: (index: number) => void
}

function Shot({
  it,
  label,
  onOpen,
  large,
}: {
  it: Iteration
  label: string
  onOpen: () => void
  large?: boolean
}) {
  return (
    <figure className="min-w-0 space-y-2" data-testid={large ? 'hero-best' : 'hero-first'}>
      <figcaption className="flex items-center justify-between gap-2 text-sm">
        <span className={large ? 'font-semibold text-amber-200' : 'text-zinc-300'}>{label}</span>
        <ScoreBadge score={it.judge_score} />
      </figcaption>
      {it.image_url ? (
        <button
          type="button"
          onClick={onOpen}
          aria-label={`Open ${label.toLowerCase()} full size`}
          className="block w-full cursor-zoom-in overflow-hidden rounded-xl border border-zinc-800 focus-visible:outline-2 focus-visible:outline-violet-400"
        >
          <img
            src={it.image_url}
            alt={`Iteration ${it.index}`}
            className="max-h-[62vh] w-full bg-zinc-950 object-contain"
          />
        </button>
      ) : (
        <div className="flex aspect-square items-center justify-center rounded-xl border border-dashed border-zinc-700 text-sm text-zinc-400">
          No image
        </div>
      )}
    </figure>
  )
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n))

/** The answer first: first and best image side by side, the uplift, the prompt to copy, download, cost. */
export function Hero({ session, first, best, onOpen }: Props) {
  const running = session.status === 'running'
  const same = !best || !first || best.index === first.index
  const rendered = renderedPromptOf(session, best)
  const source = session.final_prompt_text ?? best?.prompt_text ?? null
  const scoreUp =
    first?.judge_score != null && best?.judge_score != null ? best.judge_score - first.judge_score : null
  const passUp =
    first?.checklist_pass != null && best?.checklist_pass != null
      ? Math.round((best.checklist_pass - first.checklist_pass) * 100)
      : null
  const cost = session.cost_usd ?? 0

  return (
    <section
      aria-label="Result"
      data-testid="hero"
      className="grid grid-cols-2 gap-3 rounded-2xl border border-zinc-800 bg-zinc-900/60 p-3 sm:gap-5 sm:p-4 lg:grid-cols-[minmax(0,1fr)_minmax(0,2.4fr)_minmax(0,1.5fr)]"
    >
      {first && !same && <Shot it={first} label="First image" onOpen={() => onOpen(first.index)} />}
      {best && (
        <div className={same ? 'col-span-2 lg:col-span-2' : ''}>
          <Shot
            it={best}
            large
            label={
              same
                ? running
                  ? 'First image (best so far)'
                  : 'First image, still the best'
                : `${running ? 'Best so far' : 'Best'} · #${best.index}`
            }
            onOpen={() => onOpen(best.index)}
          />
        </div>
      )}
      <div className="col-span-2 flex min-w-0 flex-col gap-3 lg:col-span-1">
        <dl className="grid grid-cols-2 gap-2 text-sm" data-testid="uplift">
          <div className="rounded-lg border border-zinc-800 p-2">
            <dt className="text-xs text-zinc-400">Score</dt>
            <dd className="text-zinc-100">
              {first?.judge_score ?? '—'} → <span className="font-semibold">{best?.judge_score ?? '—'}</span>
              {scoreUp != null && (
                <span className={scoreUp > 0 ? 'ml-1 text-emerald-300' : 'ml-1 text-zinc-400'}>
                  ({signed(scoreUp)})
                </span>
              )}
            </dd>
          </div>
          <div className="rounded-lg border border-zinc-800 p-2">
            <dt className="text-xs text-zinc-400">Checklist passed</dt>
            <dd className="text-zinc-100">
              {percent(first?.checklist_pass)} →{' '}
              <span className="font-semibold">{percent(best?.checklist_pass)}</span>
              {passUp != null && (
                <span className={passUp > 0 ? 'ml-1 text-emerald-300' : 'ml-1 text-zinc-400'}>
                  ({signed(passUp)} pts)
                </span>
              )}
            </dd>
          </div>
        </dl>
        {(rendered ?? source) && (
          <div className="min-h-0 space-y-2">
            <h2 className="text-sm font-medium text-zinc-100">
              {running ? 'Best prompt so far' : 'Final prompt'}
              {best && <span className="ml-1 font-normal text-zinc-400">(from #{best.index}, as sent)</span>}
            </h2>
            <div className="flex flex-wrap gap-2">
              <CopyButton
                text={rendered ?? source ?? ''}
                label="Copy prompt"
                variant="primary"
                data-testid="copy-rendered"
              />
              {source && (
                <CopyButton
                  text={source}
                  label="Copy FLEX source"
                  variant="secondary"
                  data-testid="copy-flex"
                />
              )}
            </div>
            <pre
              data-testid="final-prompt"
              tabIndex={0}
              aria-label="The final prompt"
              className="max-h-40 overflow-auto rounded-lg border border-zinc-800 bg-zinc-950 p-2 font-mono text-xs leading-relaxed whitespace-pre-wrap text-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-400 lg:max-h-56"
            >
              {rendered ?? source}
            </pre>
          </div>
        )}
        {!running && (
          <a
            href={api.downloadUrl(session.session_id)}
            download
            className="inline-flex h-11 items-center justify-center gap-2 rounded-lg border border-zinc-600 bg-zinc-900 px-4 text-sm font-medium text-zinc-100 hover:bg-zinc-800"
          >
            Download session (.zip)
          </a>
        )}
        <p className="text-sm text-zinc-300" data-testid="total-cost">
          {running ? 'Cost so far: ' : 'Total cost: '}
          {session.demo ? (
            <>
              <span className="font-semibold">$0</span> (demo mode: nothing is charged)
            </>
          ) : (
            <span className="font-semibold">{formatUsd(cost)}</span>
          )}
        </p>
      </div>
    </section>
  )
}
