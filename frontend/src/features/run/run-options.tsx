import { useTranslation } from '@/i18n/react'
import { useEffect, useState } from 'react'

import { RunFields } from '@/components/run-fields'
import { api, describeError } from '@/lib/api-client'
import { formatUsd } from '@/lib/flow'
import { choiceProblem, optimizeBody, type RunChoice, usableChoice } from '@/lib/run-choice'
import type { Estimate, Limits, Session } from '@/lib/types'

import { EditMode } from './edit-mode'

/** Debounced estimate of a run's cost; refreshed whenever the choice changes. */
function useEstimate(session: Session, choice: RunChoice, valid: boolean) {
  const [state, setState] = useState<{ key: string; estimate?: Estimate; error?: string } | null>(null)
  const key = JSON.stringify([session.session_id, session.checklist_version, choice])
  useEffect(() => {
    if (!valid) return
    const ctl = new AbortController()
    const timer = setTimeout(() => {
      api.estimate(session.session_id, optimizeBody(choice), ctl.signal).then(
        (estimate) => setState({ key, estimate }),
        (e: unknown) => !ctl.signal.aborted && setState({ key, error: describeError(e).message }),
      )
    }, 250)
    return () => {
      clearTimeout(timer)
      ctl.abort()
    }
    // key covers the session id, the checklist version and the choice.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, valid])
  return state && state.key === key ? state : null
}

/** Rounds, candidates per round and an optional budget, with the cost estimate beside them. */
export function RunOptions({
  session,
  limits,
  choice,
  onChange,
  idPrefix,
  inputImages,
}: {
  session: Session
  limits: Limits
  choice: RunChoice
  onChange: (c: RunChoice) => void
  idPrefix: string
  /** The model's max_input_images: given, the choice of edit mode is shown (on only above 0). */
  inputImages?: number
}) {
  const { t } = useTranslation()
  const problem = choiceProblem(choice, limits)
  const usable = usableChoice(choice, inputImages)
  const estimate = useEstimate(session, usable, problem === null)
  const images = choice.rounds * choice.candidates
  return (
    <div className="grid gap-5 md:grid-cols-2" data-testid="run-options">
      <div className="space-y-5">
        <RunFields limits={limits} choice={choice} onChange={onChange} idPrefix={idPrefix} />
        {inputImages !== undefined && (
          <EditMode
            mode={usable.mode ?? 'generate'}
            onChange={(mode) => onChange({ ...choice, mode })}
            available={inputImages > 0}
          />
        )}
      </div>
      <div
        className="space-y-1 self-start rounded-xl border border-zinc-800 bg-zinc-950/60 p-3 text-sm"
        data-testid="estimate"
        aria-live="polite"
      >
        <p className="text-xs font-semibold tracking-wide text-zinc-400 uppercase">{t('run.estimated')}</p>
        {problem ? (
          <p className="text-rose-300">{problem}</p>
        ) : !estimate ? (
          <p className="text-zinc-400">{t('run.estimating')}</p>
        ) : estimate.error ? (
          <p className="text-rose-300">{t('run.noEstimate', { error: estimate.error })}</p>
        ) : estimate.estimate && session.demo && estimate.estimate.usd === 0 ? (
          <p className="text-zinc-100">
            <span className="text-lg font-semibold">{formatUsd(0)}</span> {t('run.demoFree')}
          </p>
        ) : (
          estimate.estimate && (
            <p className="text-zinc-100">
              <span className="text-lg font-semibold">≈ {formatUsd(estimate.estimate.usd)}</span>{' '}
              <span className="text-zinc-400">
                {t('run.range', {
                  low: formatUsd(estimate.estimate.low),
                  high: formatUsd(estimate.estimate.high),
                })}
              </span>
            </p>
          )
        )}
        <p className="text-zinc-400">
          {t('run.upTo', {
            rounds: t('count.rounds', { count: choice.rounds }),
            candidates: t('count.candidates', { count: choice.candidates }),
            images: t('count.images', { count: images }),
          })}
          {estimate?.estimate && t('run.llmCalls', { count: estimate.estimate.llm_calls })}
          {t('run.mayStop', {
            target: session.target_score,
            plateau: t('count.rounds', { count: limits.plateau_rounds_default }),
          })}
          {choice.budget.trim() && !problem
            ? t('run.orBudget', { usd: formatUsd(Number(choice.budget)) })
            : ''}
          {'.'}
        </p>
      </div>
    </div>
  )
}
