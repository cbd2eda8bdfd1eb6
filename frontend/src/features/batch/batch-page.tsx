// The batch page: paste or load goals, pick the provider and settings, watch the table fill in,
// open or download the report. It drives the same batch service as `sfumato batch`.
import { useTranslation } from '@/i18n/react'
import { type ChangeEvent, useCallback, useEffect, useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { FieldLabel, TextAreaField } from '@/components/field'
import { RunFields } from '@/components/run-fields'
import { formatDateTime, formatMoney, formatNumber, i18n, t } from '@/i18n'
import { describeError, type ReadableError } from '@/lib/api-client'
import { cn } from '@/lib/cn'
import { providerLabel } from '@/lib/provider-text'
import { MAX_WEB_BATCH_JOBS } from '@/lib/limits.gen'
import { choiceProblem, optimizeBody, type RunChoice } from '@/lib/run-choice'
import type {
  BatchBody,
  BatchEstimate,
  BatchGoal,
  BatchRow,
  BatchState,
  Limits,
  ProvidersResponse,
} from '@/lib/types'

import { batchApi, countGoals, type LineProblem, lineProblems, pct, signed } from './batch-api'

const DEMO = 'demo'
const LAST_BATCH_KEY = 'sfumato.batch'
const GOAL_FILES = '.txt,.jsonl,.json,text/plain'
const EXAMPLE = [
  'exactly five yellow rubber ducks in a row in a bathtub',
  '{"id": "sign", "goal": "a bakery sign that reads FRESH BREAD", "image_params": {"aspect_ratio": "16:9"}}',
].join('\n')

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

function NumberField(props: {
  id: string
  label: string
  value: number | ''
  min: number
  max?: number
  step?: number
  placeholder?: string
  onChange: (value: number | '') => void
}) {
  return (
    <div>
      <FieldLabel htmlFor={props.id}>{props.label}</FieldLabel>
      <input
        id={props.id}
        type="number"
        inputMode="decimal"
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value === '' ? '' : Number(e.target.value))}
        className="h-10 w-full rounded-xl border border-zinc-700 bg-zinc-950/80 px-3 text-sm text-zinc-100 focus:border-violet-400 focus:ring-1 focus:ring-violet-400 focus:outline-none"
      />
    </div>
  )
}

type EstimateState =
  { key: string; estimate: BatchEstimate } | { key: string; problems: LineProblem[]; error: ReadableError }

/**
 * The estimate doubles as validation: the server parses the goals the way the batch will, so a bad
 * line is named before Start (and Start waits for a good answer, never for ever).
 */
function useEstimate(body: BatchBody | null) {
  const [state, setState] = useState<EstimateState | null>(null)
  const key = body ? JSON.stringify(body) : ''
  useEffect(() => {
    if (!key) return
    const ctl = new AbortController()
    const timer = window.setTimeout(() => {
      batchApi.estimate(JSON.parse(key) as BatchBody, ctl.signal).then(
        (estimate) => setState({ key, estimate }),
        (e: unknown) => {
          if (!ctl.signal.aborted) setState({ key, problems: lineProblems(e), error: describeError(e) })
        },
      )
    }, 400)
    return () => {
      window.clearTimeout(timer)
      ctl.abort()
    }
  }, [key])
  return state && state.key === key ? state : null
}

function parseBatch(e: Event): BatchState | null {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as BatchState
  } catch {
    return null
  }
}

/**
 * Follows `GET /api/batches/<id>/events` the way the session page follows its run: each `state`
 * is the whole batch, `done` the last one. When the stream breaks (or reconnects), one GET fills
 * the gap; a batch the server no longer knows is forgotten.
 */
function useBatch(id: string | null, onGone: () => void) {
  const [state, setState] = useState<BatchState | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  // Another batch's state (the address moved on) is never shown under this id.
  const current = state?.batch_id === id ? state : null
  const running = !current || current.status === 'running'
  useEffect(() => {
    if (!id || !running) return
    const ctl = new AbortController()
    const show = (s: BatchState) => {
      setState(s)
      setError(null)
    }
    const fetchOnce = () =>
      batchApi.get(id, ctl.signal).then(show, (e: unknown) => {
        if (ctl.signal.aborted) return
        const readable = describeError(e)
        // A batch of an earlier server run: its report stays on disk, the page starts afresh.
        if (readable.code === 'not_found') onGone()
        else setError(readable)
      })
    void fetchOnce() // the batch at once, as the session page loads over REST, then its events
    const source = new EventSource(batchApi.eventsUrl(id))
    const on = (name: string) =>
      source.addEventListener(name, (e) => {
        const data = parseBatch(e)
        if (data) show(data)
        if (name === 'done') source.close()
      })
    on('state')
    on('done')
    source.onerror = () => void fetchOnce()
    return () => {
      source.close()
      ctl.abort()
    }
  }, [id, running, onGone])
  return { state: current, error, setState }
}

/** Batches since the server started (any tab or the CLI's `serve`), refreshed while one runs. */
function useRecentBatches(openId: string | null, openStatus: string | undefined) {
  const [rows, setRows] = useState<BatchRow[]>([])
  useEffect(() => {
    const ctl = new AbortController()
    batchApi.list(ctl.signal).then(
      (list) => setRows(list.batches),
      () => undefined,
    )
    return () => ctl.abort()
  }, [openId, openStatus])
  return rows
}

function RecentBatches({
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
      <td className="py-2 pr-3 tabular-nums">{formatMoney(g.cost_usd, 4)}</td>
      <td className="py-2 tabular-nums">
        {t('progress.sec', { s: formatNumber(g.seconds, { maximumFractionDigits: 1 }) })}
      </td>
    </tr>
  )
}

function Progress({
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
          cost: formatMoney(s.cost_usd, 4),
          time: t('progress.sec', { s: formatNumber(s.seconds, { maximumFractionDigits: 1 }) }),
        })}
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

type OnRoute = (id: string | null, opts?: { replace?: boolean }) => void

/**
 * The open batch is the one the address names, and nothing else: it is never read from storage
 * while rendering (a value React does not track: a render that React then bailed out of kept the
 * new id in the effects' dependencies without running them, so a batch opened from the list never
 * loaded). At `#/batch` the batch last open in this tab is put back in the address, so the page
 * survives a visit to one of its sessions.
 */
function useOpenBatch(routeId: string | undefined, onRoute: OnRoute) {
  useEffect(() => {
    if (routeId) sessionStorage.setItem(LAST_BATCH_KEY, routeId)
    else {
      const last = sessionStorage.getItem(LAST_BATCH_KEY)
      if (last) onRoute(last, { replace: true })
    }
  }, [routeId, onRoute])
  const forget = useCallback(() => {
    sessionStorage.removeItem(LAST_BATCH_KEY)
    onRoute(null)
  }, [onRoute])
  return { batchId: routeId ?? null, open: (id: string) => onRoute(id), forget }
}

/**
 * `routeId` is the batch the address names (`#/batch/<id>`); `onRoute` puts the open batch in the
 * address (null: none).
 */
export default function BatchPage({
  catalog,
  limits,
  routeId,
  onRoute,
}: {
  catalog: ProvidersResponse | null
  limits: Limits
  routeId?: string
  onRoute: OnRoute
}) {
  const { t } = useTranslation()
  const providers = catalog?.providers ?? []
  // The catalogue's name in the language on screen ("Offline demo"), not the API's ("demo").
  const providerName = (name: string) =>
    providerLabel(providers.find((p) => p.name === name) ?? { name, label: name })
  const [goals, setGoals] = useState('')
  const [provider, setProvider] = useState('demo')
  // The session's run options, with the server's limits (the generated ones until it answers).
  const [choice, setChoice] = useState<RunChoice>(() => ({
    rounds: limits.max_iterations_default,
    candidates: limits.candidates_default,
    budget: '',
  }))
  const [jobs, setJobs] = useState<number | ''>(2)
  const { batchId, open: setBatchId, forget } = useOpenBatch(routeId, onRoute)
  const [error, setError] = useState<ReadableError | null>(null)
  const [busy, setBusy] = useState(false)
  const batch = useBatch(batchId, forget)
  const recent = useRecentBatches(batchId, batch.state?.status)
  const count = countGoals(goals)

  const problem = choiceProblem(choice, limits, 0)
  const { iterations_count: iterations, ...run } = optimizeBody(choice)
  const body: BatchBody | null =
    count > 0 && !problem ? { goals, provider, iterations, ...run, jobs: jobs === '' ? 1 : jobs } : null
  const checked = useEstimate(body)
  const estimate = checked && 'estimate' in checked ? checked.estimate : null
  const refused = checked && 'error' in checked ? checked : null

  const loadFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0]
    if (file) void file.text().then(setGoals)
  }

  const start = () => {
    if (!body) return
    setBusy(true)
    setError(null)
    batchApi.start(body).then(
      (state) => {
        batch.setState(state)
        setBatchId(state.batch_id)
        setBusy(false)
      },
      (e: unknown) => {
        setError(describeError(e))
        setBusy(false)
      },
    )
  }

  const cancel = () => {
    if (batchId) batchApi.cancel(batchId).then(batch.setState, (e: unknown) => setError(describeError(e)))
  }

  const resume = () => {
    if (batchId) batchApi.resume(batchId).then(batch.setState, (e: unknown) => setError(describeError(e)))
  }

  return (
    <div className="flex flex-col gap-5">
      <Card className="space-y-4">
        <p className="text-sm text-zinc-400">{t('batch.intro')}</p>
        <div>
          <TextAreaField
            label={t('batch.goalsLabel')}
            hint={t('count.goals', { count })}
            className="font-mono text-xs"
            id="batch-goals"
            rows={7}
            placeholder={EXAMPLE}
            value={goals}
            onChange={(e) => setGoals(e.target.value)}
            aria-invalid={!!refused?.problems.length}
            aria-describedby={refused?.problems.length ? 'batch-goal-problems' : undefined}
          />
          {refused && refused.problems.length > 0 && (
            <ul
              id="batch-goal-problems"
              data-testid="goal-problems"
              className="mt-2 space-y-1 text-sm text-rose-300"
            >
              {refused.problems.map((p) => (
                <li key={p.line} data-line={p.line}>
                  {t('batch.lineProblem', { line: p.line, message: p.message })}
                </li>
              ))}
            </ul>
          )}
          <label className="mt-2 inline-flex cursor-pointer items-center gap-2 text-sm text-zinc-400">
            <span className="rounded-lg border border-zinc-700 px-3 py-1 whitespace-nowrap text-zinc-200 hover:bg-zinc-800">
              {t('batch.loadFile')}
            </span>
            <input type="file" accept={GOAL_FILES} className="sr-only" onChange={loadFile} />
            <span>{t('batch.fileHint')}</span>
          </label>
        </div>
        <div className="grid grid-cols-2 gap-3 sm:max-w-xl">
          <div>
            <FieldLabel htmlFor="batch-provider">{t('overview.provider')}</FieldLabel>
            <select
              id="batch-provider"
              value={provider}
              onChange={(e) => setProvider(e.target.value)}
              className="h-10 w-full rounded-xl border border-zinc-700 bg-zinc-950/80 px-3 text-sm text-zinc-100"
            >
              {(providers.length
                ? providers
                : [{ name: DEMO, label: t('batch.offlineDemo'), available: true }]
              ).map((p) => (
                <option key={p.name} value={p.name} disabled={!p.available}>
                  {providerLabel(p)}
                  {p.available ? '' : t('batch.noKey')}
                </option>
              ))}
            </select>
          </div>
          <NumberField
            id="batch-jobs"
            label={t('batch.jobs')}
            value={jobs}
            min={1}
            max={MAX_WEB_BATCH_JOBS}
            onChange={setJobs}
          />
        </div>
        <RunFields
          limits={limits}
          choice={choice}
          onChange={setChoice}
          idPrefix="batch"
          minRounds={0}
          budgetLabel={t('batch.budget')}
        />
        <div className="flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-zinc-400" data-testid="batch-estimate">
            {estimate
              ? t('batch.estimate', {
                  usd: formatMoney(estimate.usd, 2),
                  low: formatMoney(estimate.low, 2),
                  high: formatMoney(estimate.high, 2),
                  goals: t('count.goals', { count: estimate.goals }),
                })
              : problem
                ? problem
                : refused
                  ? refused.problems.length
                    ? t('batch.fixLines')
                    : t('batch.noEstimate')
                  : count
                    ? t('run.estimating')
                    : t('batch.empty')}
          </p>
          <Button
            variant="primary"
            disabled={!body || !estimate || busy || batch.state?.status === 'running'}
            onClick={start}
          >
            {t('batch.start')}
          </Button>
        </div>
        <ErrorAlert
          error={error ?? batch.error ?? (refused && !refused.problems.length ? refused.error : null)}
          onDismiss={() => setError(null)}
        />
      </Card>

      {batchId && batch.state && (
        <Progress state={batch.state} onCancel={cancel} onResume={resume} providerName={providerName} />
      )}
      <RecentBatches rows={recent} openId={batchId} onOpen={setBatchId} providerName={providerName} />
    </div>
  )
}
