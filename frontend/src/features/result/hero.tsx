import { useTranslation } from '@/i18n/react'

import { RejudgeNote } from './rejudge-note'
import { CopyButton } from '@/components/copy-button'
import { ReferenceStrip } from '@/components/reference-strip'
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
  const { t } = useTranslation()
  return (
    <figure className="min-w-0 space-y-2" data-testid={large ? 'hero-best' : 'hero-first'}>
      <figcaption className="flex items-center justify-between gap-2 text-sm">
        <span className={large ? 'font-semibold text-amber-200' : 'text-zinc-300'}>{label}</span>
        <ScoreBadge score={it.judge_score} />
      </figcaption>
      <RejudgeNote it={it} />
      {it.image_url ? (
        <button
          type="button"
          onClick={onOpen}
          aria-label={t('hero.openFull', { label })}
          className="block w-full cursor-zoom-in overflow-hidden rounded-xl border border-zinc-800 focus-visible:outline-2 focus-visible:outline-violet-400"
        >
          <img
            src={it.image_url}
            alt={t('image.alt', { n: it.index })}
            className="max-h-[62vh] w-full bg-zinc-950 object-contain"
          />
        </button>
      ) : (
        <div className="flex aspect-square items-center justify-center rounded-xl border border-dashed border-zinc-700 text-sm text-zinc-400">
          {t('image.none')}
        </div>
      )}
    </figure>
  )
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n))

/** The answer first: first and best image side by side, the uplift, the prompt to copy, download, cost. */
export function Hero({ session, first, best, onOpen }: Props) {
  const { t } = useTranslation()
  const running = session.status === 'running'
  const same = !best || !first || best.index === first.index
  const rendered = renderedPromptOf(session, best)
  // Providers with their own negative prompt received the "avoid" block apart from the prompt.
  const negative = rendered ? (best?.rendered_negative ?? null) : null
  const sent = rendered && negative ? `${rendered}\n\n${t('hero.negativeLabel')} ${negative}` : rendered
  // The best is chosen by head-to-head comparison: a higher single score may have lost to it.
  const outscored =
    best?.judge_score != null && session.iterations.some((it) => (it.judge_score ?? -1) > best.judge_score!)
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
      aria-label={t('hero.label')}
      data-testid="hero"
      className="grid grid-cols-2 gap-3 rounded-2xl border border-zinc-800 bg-zinc-900/60 p-3 sm:gap-5 sm:p-4 lg:grid-cols-[minmax(0,1fr)_minmax(0,2.4fr)_minmax(0,1.5fr)]"
    >
      {first && !same && <Shot it={first} label={t('image.first')} onOpen={() => onOpen(first.index)} />}
      {best && (
        <div className={same ? 'col-span-2 lg:col-span-2' : ''}>
          <Shot
            it={best}
            large
            label={
              same
                ? running
                  ? t('hero.firstBestSoFar')
                  : t('hero.firstStillBest')
                : t(running ? 'hero.bestSoFar' : 'hero.best', { n: best.index })
            }
            onOpen={() => onOpen(best.index)}
          />
          {outscored && (
            <p className="mt-1 text-xs text-zinc-400" data-testid="best-by-pairwise">
              {t('hero.pickedByPairwise')}
            </p>
          )}
        </div>
      )}
      <div className="col-span-2 flex min-w-0 flex-col gap-3 lg:col-span-1">
        <ReferenceStrip references={session.references ?? []} />
        <dl className="grid grid-cols-2 gap-2 text-sm" data-testid="uplift">
          <div className="rounded-lg border border-zinc-800 p-2">
            <dt className="text-xs text-zinc-400">{t('hero.score')}</dt>
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
            <dt className="text-xs text-zinc-400">{t('hero.checklistPassed')}</dt>
            <dd className="text-zinc-100">
              {percent(first?.checklist_pass)} →{' '}
              <span className="font-semibold">{percent(best?.checklist_pass)}</span>
              {passUp != null && (
                <span className={passUp > 0 ? 'ml-1 text-emerald-300' : 'ml-1 text-zinc-400'}>
                  ({t('hero.pts', { n: signed(passUp) })})
                </span>
              )}
            </dd>
          </div>
        </dl>
        {(rendered ?? source) && (
          <div className="min-h-0 space-y-2">
            <h2 className="text-sm font-medium text-zinc-100">
              {running ? t('hero.bestPromptSoFar') : t('hero.finalPrompt')}
              {best && (
                <span className="ml-1 font-normal text-zinc-400">
                  {t('hero.fromAsSent', { n: best.index })}
                </span>
              )}
            </h2>
            <div className="flex flex-wrap gap-2">
              <CopyButton
                text={sent ?? source ?? ''}
                label={t('hero.copyPrompt')}
                variant="primary"
                data-testid="copy-rendered"
              />
              {source && (
                <CopyButton
                  text={source}
                  label={t('hero.copyFlex')}
                  variant="secondary"
                  data-testid="copy-flex"
                />
              )}
            </div>
            <pre
              data-testid="final-prompt"
              tabIndex={0}
              aria-label={t('hero.finalPromptLabel')}
              className="max-h-40 overflow-auto rounded-lg border border-zinc-800 bg-zinc-950 p-2 font-mono text-xs leading-relaxed whitespace-pre-wrap text-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-400 lg:max-h-56"
            >
              {rendered ?? source}
            </pre>
            {session.prompt_language !== session.language && (
              <p data-testid="prompt-language-note" className="text-xs text-zinc-400">
                {t('hero.promptLanguageNote', {
                  language: t(`language.${session.prompt_language}`),
                })}
              </p>
            )}
            {negative && (
              <div
                data-testid="final-negative"
                className="rounded-lg border border-zinc-800 bg-zinc-950 p-2 text-xs"
              >
                <p className="font-medium text-zinc-300">{t('hero.negativeTitle')}</p>
                <p className="mt-1 font-mono leading-relaxed whitespace-pre-wrap text-zinc-100">{negative}</p>
              </div>
            )}
          </div>
        )}
        {!running && (
          <a
            href={api.downloadUrl(session.session_id)}
            download
            className="inline-flex h-11 items-center justify-center gap-2 rounded-lg border border-zinc-600 bg-zinc-900 px-4 text-sm font-medium text-zinc-100 hover:bg-zinc-800"
          >
            {t('hero.download')}
          </a>
        )}
        <p className="text-sm text-zinc-300" data-testid="total-cost">
          {running ? t('hero.costSoFar') : t('hero.totalCost')}
          {session.demo ? (
            <>
              <span className="font-semibold">{formatUsd(0)}</span> {t('hero.demoFree')}
            </>
          ) : (
            <span className="font-semibold">{formatUsd(cost)}</span>
          )}
        </p>
      </div>
    </section>
  )
}
