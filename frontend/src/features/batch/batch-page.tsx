// The batch page: paste or load goals, pick the provider and settings, watch the table fill in,
// open or download the report. It drives the same batch service as `sfumato batch`.
import { type ChangeEvent, useCallback, useEffect, useState } from 'react'

import logo from '../../../../assets/logo_horizontal.png'
import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { FieldLabel, TextArea } from '@/components/field'
import { describeError, type ReadableError } from '@/lib/api-client'
import { cn } from '@/lib/cn'
import { DEFAULT_LIMITS, MAX_CANDIDATES, MAX_WEB_BATCH_JOBS } from '@/lib/limits.gen'
import type { ProvidersResponse } from '@/lib/types'

import {
  type BatchBody,
  type BatchEstimate,
  type BatchGoal,
  batchApi,
  type BatchRow,
  type BatchState,
  countGoals,
  pct,
  signed,
} from './batch-api'

const POLL_MS = 1000
const LAST_BATCH_KEY = 'sfumato.batch'
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

function useEstimate(body: BatchBody | null) {
  const [estimate, setEstimate] = useState<BatchEstimate | null>(null)
  const key = body ? JSON.stringify(body) : ''
  useEffect(() => {
    if (!key) return
    const ctl = new AbortController()
    const timer = window.setTimeout(() => {
      batchApi.estimate(JSON.parse(key) as BatchBody, ctl.signal).then(setEstimate, () => setEstimate(null))
    }, 400)
    return () => {
      window.clearTimeout(timer)
      ctl.abort()
    }
  }, [key])
  return key ? estimate : null
}

function useBatch(id: string | null, onGone: () => void) {
  const [state, setState] = useState<BatchState | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  const running = !state || state.status === 'running'
  useEffect(() => {
    if (!id || !running) return
    const ctl = new AbortController()
    const poll = () =>
      batchApi.get(id, ctl.signal).then(
        (s) => {
          setState(s)
          setError(null)
        },
        (e: unknown) => {
          if (ctl.signal.aborted) return
          const readable = describeError(e)
          // A batch of an earlier server run: its report stays on disk, the page starts afresh.
          if (readable.code === 'not_found') onGone()
          else setError(readable)
        },
      )
    void poll()
    const timer = window.setInterval(() => void poll(), POLL_MS)
    return () => {
      window.clearInterval(timer)
      ctl.abort()
    }
  }, [id, running, onGone])
  return { state, error, setState }
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
}: {
  rows: BatchRow[]
  openId: string | null
  onOpen: (id: string) => void
}) {
  if (rows.length === 0) return null
  return (
    <Card className="space-y-3" data-testid="recent-batches">
      <h2 className="text-base font-semibold text-zinc-100">Batches since the server started</h2>
      <ul className="divide-y divide-zinc-800">
        {rows.map((row) => (
          <li key={row.batch_id} className="flex flex-wrap items-center justify-between gap-3 py-2 text-sm">
            <span className="text-zinc-200">
              {new Date(row.started_at).toLocaleString()} · {row.provider} ·{' '}
              <span className={STATUS_STYLE[row.status] ?? 'text-zinc-300'}>{row.status}</span> ·{' '}
              {row.summary.done} of {row.summary.goals} goal{row.summary.goals === 1 ? '' : 's'} done
            </span>
            {row.batch_id === openId ? (
              <span className="text-xs text-zinc-400">shown above</span>
            ) : (
              <Button size="sm" variant="ghost" onClick={() => onOpen(row.batch_id)}>
                Open report
              </Button>
            )}
          </li>
        ))}
      </ul>
    </Card>
  )
}

function GoalRow({ batchId, g }: { batchId: string; g: BatchGoal }) {
  return (
    <tr data-goal={g.id} data-status={g.status} className="border-t border-zinc-800 align-top">
      <td className="py-2 pr-3">
        {g.best_image ? (
          <a href={batchApi.fileUrl(batchId, g.best_image)} target="_blank" rel="noreferrer">
            <img
              src={batchApi.fileUrl(batchId, g.best_image)}
              alt={`Best image of ${g.id}`}
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
        {g.session_id && g.status !== 'pending' ? <a href={`#/s/${g.session_id}`}>{g.status}</a> : g.status}
      </td>
      <td className="py-2 pr-3 whitespace-nowrap tabular-nums">
        {g.first_score ?? '–'} → {g.best_score ?? '–'}
      </td>
      <td className="py-2 pr-3 whitespace-nowrap tabular-nums">
        {pct(g.first_checklist_pass)} → {pct(g.best_checklist_pass)}
      </td>
      <td className="py-2 pr-3">{g.best_vs_first ?? '–'}</td>
      <td className="py-2 pr-3 tabular-nums">${g.cost_usd.toFixed(4)}</td>
      <td className="py-2 tabular-nums">{g.seconds.toFixed(1)} s</td>
    </tr>
  )
}

function Progress({
  state,
  onCancel,
  onResume,
}: {
  state: BatchState
  onCancel: () => void
  onResume: () => void
}) {
  const s = state.summary
  const finished = state.goals.filter((g) => g.status !== 'pending' && g.status !== 'running').length
  return (
    <Card className="space-y-4" data-testid="batch-progress">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-base font-semibold text-zinc-100">
          Batch on {state.provider}: {finished}/{s.goals} finished
          <span className="ml-2 text-sm font-normal text-zinc-400" data-testid="batch-status">
            ({state.status})
          </span>
        </h2>
        <div className="flex flex-wrap gap-2">
          {state.status === 'running' ? (
            <Button size="sm" variant="danger" onClick={onCancel}>
              Stop batch
            </Button>
          ) : null}
          {state.status === 'interrupted' || state.status === 'cancelled' ? (
            <Button size="sm" variant="primary" onClick={onResume}>
              Resume
            </Button>
          ) : null}
          <a
            className="inline-flex h-8 items-center rounded-lg border border-zinc-700 px-3 text-sm text-zinc-100 hover:bg-zinc-800"
            href={batchApi.fileUrl(state.batch_id, 'report.html')}
            target="_blank"
            rel="noreferrer"
          >
            Open report
          </a>
          <a
            className="inline-flex h-8 items-center rounded-lg border border-zinc-700 px-3 text-sm text-zinc-100 hover:bg-zinc-800"
            href={batchApi.downloadUrl(state.batch_id)}
          >
            Download report (.zip)
          </a>
        </div>
      </div>
      <p className="text-sm text-zinc-300" data-testid="batch-summary">
        Done {s.done}, failed {s.failed}. Best vs first: win {pct(s.win_rate)}, loss {pct(s.loss_rate)}, tie{' '}
        {pct(s.tie_rate)}. Mean uplift: score {signed(s.mean_score_uplift)}, checklist{' '}
        {s.mean_checklist_uplift == null ? '–' : `${signed(s.mean_checklist_uplift * 100, 0)} pts`}. Cost $
        {s.cost_usd.toFixed(4)}, {s.seconds.toFixed(1)} s.
      </p>
      <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="Goals of the batch">
        <table className="w-full min-w-[44rem] text-left text-sm" data-testid="batch-table">
          <thead className="text-xs text-zinc-400 uppercase">
            <tr>
              <th className="py-2 pr-3 font-medium">Best</th>
              <th className="py-2 pr-3 font-medium">Goal</th>
              <th className="py-2 pr-3 font-medium">Status</th>
              <th className="py-2 pr-3 font-medium">Score</th>
              <th className="py-2 pr-3 font-medium">Checklist</th>
              <th className="py-2 pr-3 font-medium">Best vs first</th>
              <th className="py-2 pr-3 font-medium">Cost</th>
              <th className="py-2 font-medium">Time</th>
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

export default function BatchPage({ catalog }: { catalog: ProvidersResponse | null }) {
  const providers = catalog?.providers ?? []
  const [goals, setGoals] = useState('')
  const [provider, setProvider] = useState('demo')
  const [iterations, setIterations] = useState<number | ''>(
    catalog?.limits.max_iterations_default ?? DEFAULT_LIMITS.max_iterations_default,
  )
  const [candidates, setCandidates] = useState<number | ''>(1)
  const [jobs, setJobs] = useState<number | ''>(2)
  const [budget, setBudget] = useState<number | ''>('')
  // The open batch survives a visit to one of its sessions (and a reload) in this tab.
  const [batchId, setBatchIdState] = useState<string | null>(() => sessionStorage.getItem(LAST_BATCH_KEY))
  const setBatchId = (id: string) => {
    sessionStorage.setItem(LAST_BATCH_KEY, id)
    setBatchIdState(id)
  }
  const [error, setError] = useState<ReadableError | null>(null)
  const [busy, setBusy] = useState(false)
  const forget = useCallback(() => {
    sessionStorage.removeItem(LAST_BATCH_KEY)
    setBatchIdState(null)
  }, [])
  const batch = useBatch(batchId, forget)
  const recent = useRecentBatches(batchId, batch.state?.status)
  const count = countGoals(goals)

  const body: BatchBody | null =
    count > 0
      ? {
          goals,
          provider,
          iterations: iterations === '' ? 0 : iterations,
          candidates: candidates === '' ? 1 : candidates,
          jobs: jobs === '' ? 1 : jobs,
          ...(budget === '' ? {} : { budget_usd: budget }),
        }
      : null
  const estimate = useEstimate(body)

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
    <div className="mx-auto flex min-h-dvh max-w-6xl flex-col gap-5 px-3 py-4 sm:px-6 sm:py-6">
      <header className="flex flex-wrap items-center justify-between gap-3">
        <a href="#/" aria-label="SFUMATO home">
          <img src={logo} alt="SFUMATO" width={1200} height={300} className="h-10 w-auto sm:h-12" />
        </a>
        <nav className="flex items-center gap-2 text-sm">
          <a className="rounded-lg px-3 py-1.5 text-zinc-300 hover:bg-zinc-800" href="#/">
            New session
          </a>
          <a className="rounded-lg px-3 py-1.5 text-zinc-300 hover:bg-zinc-800" href="#/history">
            History
          </a>
        </nav>
      </header>

      <Card className="space-y-4">
        <div>
          <h1 className="text-lg font-semibold text-zinc-100">Batch run</h1>
          <p className="text-sm text-zinc-400">
            Every goal runs end to end (prompt, first image, improvement rounds), then its best image is
            compared with its first by the judge in both orders. The table fills in as goals finish.
          </p>
        </div>
        <div>
          <FieldLabel htmlFor="batch-goals" hint={`${count} goal${count === 1 ? '' : 's'}`}>
            Goals: one per line, or JSON Lines
          </FieldLabel>
          <TextArea
            id="batch-goals"
            rows={7}
            value={goals}
            placeholder={EXAMPLE}
            onChange={(e) => setGoals(e.target.value)}
            className="font-mono text-xs"
          />
          <label className="mt-2 inline-flex cursor-pointer items-center gap-2 text-sm text-zinc-400">
            <span className="rounded-lg border border-zinc-700 px-3 py-1 whitespace-nowrap text-zinc-200 hover:bg-zinc-800">
              Load a file…
            </span>
            <input
              type="file"
              accept=".txt,.jsonl,.json,text/plain"
              className="sr-only"
              onChange={loadFile}
            />
            <span>.txt or .jsonl (e.g. benchmarks/goals.jsonl)</span>
          </label>
        </div>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-5">
          <div className="col-span-2 sm:col-span-1">
            <FieldLabel htmlFor="batch-provider">Provider</FieldLabel>
            <select
              id="batch-provider"
              value={provider}
              onChange={(e) => setProvider(e.target.value)}
              className="h-10 w-full rounded-xl border border-zinc-700 bg-zinc-950/80 px-3 text-sm text-zinc-100"
            >
              {(providers.length
                ? providers
                : [{ name: 'demo', label: 'Offline demo', available: true }]
              ).map((p) => (
                <option key={p.name} value={p.name} disabled={!p.available}>
                  {p.label}
                  {p.available ? '' : ' (no key)'}
                </option>
              ))}
            </select>
          </div>
          <NumberField
            id="batch-iterations"
            label="Rounds"
            value={iterations}
            min={0}
            max={catalog?.limits.max_iterations ?? DEFAULT_LIMITS.max_iterations}
            onChange={setIterations}
          />
          <NumberField
            id="batch-candidates"
            label="Candidates"
            value={candidates}
            min={1}
            max={MAX_CANDIDATES}
            onChange={setCandidates}
          />
          <NumberField
            id="batch-jobs"
            label="Goals at once"
            value={jobs}
            min={1}
            max={MAX_WEB_BATCH_JOBS}
            onChange={setJobs}
          />
          <NumberField
            id="batch-budget"
            label="Budget per goal ($)"
            value={budget}
            min={0}
            step={0.05}
            placeholder="none"
            onChange={setBudget}
          />
        </div>
        <div className="flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-zinc-400" data-testid="batch-estimate">
            {estimate
              ? `Estimated cost by the price table: $${estimate.usd.toFixed(2)} ($${estimate.low.toFixed(2)}–$${estimate.high.toFixed(2)}) for ${estimate.goals} goals.`
              : count
                ? 'Estimating…'
                : 'Paste goals or load a file to begin.'}
          </p>
          <Button
            variant="primary"
            disabled={!body || busy || batch.state?.status === 'running'}
            onClick={start}
          >
            Start batch
          </Button>
        </div>
        <ErrorAlert error={error ?? batch.error} onDismiss={() => setError(null)} />
      </Card>

      {batchId && batch.state && <Progress state={batch.state} onCancel={cancel} onResume={resume} />}
      <RecentBatches
        rows={recent}
        openId={batchId}
        onOpen={(id) => {
          batch.setState(null)
          setBatchId(id)
        }}
      />
    </div>
  )
}
