// The open batch's report on the page: its progress, summary and table of goals, and the list of
// batches since the server started.
import { useTranslation } from '@/i18n/react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { formatDateTime, formatNumber, i18n, t } from '@/i18n'
import { cn } from '@/lib/cn'
import { formatCost } from '@/lib/flow'
import type { BatchGoal, BatchRow, BatchState } from '@/lib/types'

import { batchApi, pct, signed } from './batch-api'

const STATUS_STYLE: Record<string, string> = {
  done: 'text-emerald-300',
  failed: 'text-rose-300',
  running: 'text-violet-300',
  cancelled: 'text-amber-300',
  interrupted: 'text-amber-300',
  pending: 'text-zinc-400',
}

/** A goal's or a batch's status in the language on screen (unknown ones as the server wrote them). */
const statusText = (status: string) =>
  i18n.exists(`batch.status.${status}`) ? t(`batch.status.${status}`) : status

export function RecentBatches({
  rows,
  openId,
  onOpen,
  providerName,
}: {
  rows: BatchRow[]
  openId: string | null
  onOpen: (id: string) => void
  providerName: (name: string) => string
}) {
  const { t } = useTranslation()
  if (rows.length === 0) return null
  return (
    <Card className="space-y-3" data-testid="recent-batches">
      <h2 className="text-base font-semibold text-zinc-100">{t('batch.recent')}</h2>
      <ul className="divide-y divide-zinc-800">
        {rows.map((row) => (
          <li key={row.batch_id} className="flex flex-wrap items-center justify-between gap-3 py-2 text-sm">
            <span className="text-zinc-200">
              {formatDateTime(row.started_at)} · {providerName(row.provider)} ·{' '}
              <span className={STATUS_STYLE[row.status] ?? 'text-zinc-300'}>{statusText(row.status)}</span> ·{' '}
              {t('batch.goalsDone', { count: row.summary.goals, done: row.summary.done })}
            </span>
            {row.batch_id === openId ? (
              <span className="text-xs text-zinc-400">{t('batch.shownAbove')}</span>
            ) : (
              <Button size="sm" variant="ghost" onClick={() => onOpen(row.batch_id)}>
                {t('batch.openReport')}
              </Button>
            )}
          </li>
        ))}
      </ul>
    </Card>
  )
}

function GoalRow({ batchId, g }: { batchId: string; g: BatchGoal }) {
  const { t } = useTranslation()
  return (
    <tr data-goal={g.id} data-status={g.status} className="border-t border-zinc-800 align-top">
      <td className="py-2 pr-3">
        {g.best_image ? (
          <a href={batchApi.fileUrl(batchId, g.best_image)} target="_blank" rel="noreferrer">
            <img
              src={batchApi.fileUrl(batchId, g.best_image)}
              alt={t('batch.bestOf', { id: g.id })}
              className="h-12 w-12 rounded-md object-cover"
            />
          </a>
        ) : (
          <div className="h-12 w-12 rounded-md bg-zinc-800/60" />
        )}
      </td>
      <td className="max-w-[16rem] py-2 pr-3">
        <div className="font-mono text-xs text-zinc-400">{g.id}</div>
        <div className="line-clamp-2 text-zinc-200">{g.goal}</div>
        {g.error && <div className="mt-1 text-xs text-rose-300">{`${g.error.code}: ${g.error.message}`}</div>}
      </td>
      <td className={cn('py-2 pr-3 font-medium', STATUS_STYLE[g.status])}>
        {g.session_id && g.status !== 'pending' ? (
          <a href={`#/s/${g.session_id}`}>{statusText(g.status)}</a>
        ) : (
          statusText(g.status)
        )}
      </td>
      <td className="py-2 pr-3 whitespace-nowrap tabular-nums">
        {g.first_score ?? '–'} → {g.best_score ?? '–'}
      </td>
      <td className="py-2 pr-3 whitespace-nowrap tabular-nums">
        {pct(g.first_checklist_pass)} → {pct(g.best_checklist_pass)}
      </td>
      <td className="py-2 pr-3">{g.best_vs_first ? t(`batch.verdict.${g.best_vs_first}`) : '–'}</td>
      <td className="py-2 pr-3 tabular-nums">{formatCost(g.cost_usd, g.demo ?? false)}</td>
      <td className="py-2 tabular-nums">
        {t('progress.sec', { s: formatNumber(g.seconds, { maximumFractionDigits: 1 }) })}
      </td>
    </tr>
  )
}

export function Progress({
  state,
  onCancel,
  onResume,
  providerName,
}: {
  state: BatchState
  onCancel: () => void
  onResume: () => void
  providerName: (name: string) => string
}) {
  const { t } = useTranslation()
  const s = state.summary
  const finished = state.goals.filter((g) => g.status !== 'pending' && g.status !== 'running').length
  return (
    <Card className="space-y-4" data-testid="batch-progress">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-base font-semibold text-zinc-100">
          {t('batch.progress', { provider: providerName(state.provider), finished, goals: s.goals })}
          <span className="ml-2 text-sm font-normal text-zinc-400" data-testid="batch-status">
            ({statusText(state.status)})
          </span>
        </h2>
        <div className="flex flex-wrap gap-2">
          {state.status === 'running' ? (
            <Button size="sm" variant="danger" onClick={onCancel}>
              {t('batch.stop')}
            </Button>
          ) : null}
          {state.status === 'interrupted' || state.status === 'cancelled' ? (
            <Button size="sm" variant="primary" onClick={onResume}>
              {t('batch.resume')}
            </Button>
          ) : null}
          <a
            className="inline-flex h-8 items-center rounded-lg border border-zinc-700 px-3 text-sm text-zinc-100 hover:bg-zinc-800"
            href={batchApi.fileUrl(state.batch_id, 'report.html')}
            target="_blank"
            rel="noreferrer"
          >
            {t('batch.openReport')}
          </a>
          <a
            className="inline-flex h-8 items-center rounded-lg border border-zinc-700 px-3 text-sm text-zinc-100 hover:bg-zinc-800"
            href={batchApi.downloadUrl(state.batch_id)}
          >
            {t('batch.download')}
          </a>
        </div>
      </div>
      <p className="text-sm text-zinc-300" data-testid="batch-summary">
        {t('batch.summary', {
          done: s.done,
          failed: s.failed,
          win: pct(s.win_rate),
          loss: pct(s.loss_rate),
          tie: pct(s.tie_rate),
          score: signed(s.mean_score_uplift),
          checklist:
            s.mean_checklist_uplift == null
              ? '–'
              : t('hero.pts', { n: signed(s.mean_checklist_uplift * 100, 0) }),
          cost: formatCost(s.cost_usd, state.goals.length > 0 && state.goals.every((g) => g.demo)),
          time: t('progress.sec', { s: formatNumber(s.seconds, { maximumFractionDigits: 1 }) }),
        })}
      </p>
      <p className="text-xs text-zinc-400 md:hidden" data-testid="batch-scroll-hint">
        {t('batch.scrollHint')}
      </p>
      <div className="overflow-x-auto" tabIndex={0} role="region" aria-label={t('batch.tableLabel')}>
        <table className="w-full min-w-[44rem] text-left text-sm" data-testid="batch-table">
          <thead className="text-xs text-zinc-400 uppercase">
            <tr>
              <th className="py-2 pr-3 font-medium">{t('batch.col.best')}</th>
              <th className="py-2 pr-3 font-medium">{t('batch.col.goal')}</th>
              <th className="py-2 pr-3 font-medium">{t('batch.col.status')}</th>
              <th className="py-2 pr-3 font-medium">{t('batch.col.score')}</th>
              <th className="py-2 pr-3 font-medium">{t('batch.col.checklist')}</th>
              <th className="py-2 pr-3 font-medium">{t('batch.col.bestVsFirst')}</th>
              <th className="py-2 pr-3 font-medium">{t('batch.col.cost')}</th>
              <th className="py-2 font-medium">{t('batch.col.time')}</th>
            </tr>
          </thead>
          <tbody>
            {state.goals.map((g) => (
              <GoalRow key={g.id} batchId={state.batch_id} g={g} />
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  )
}
