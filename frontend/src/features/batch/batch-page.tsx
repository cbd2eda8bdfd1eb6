// The batch page: paste or load goals, pick the provider and settings, watch the table fill in,
// open or download the report. It drives the same batch service as `sfumato batch`.
import { useTranslation } from '@/i18n/react'
import { type ChangeEvent, useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { FieldLabel, TextAreaField } from '@/components/field'
import { RunFields } from '@/components/run-fields'
import { formatMoney } from '@/i18n'
import { describeError, problemText, type ReadableError } from '@/lib/api-client'
import { providerLabel } from '@/lib/provider-text'
import { MAX_WEB_BATCH_JOBS } from '@/lib/limits.gen'
import { choiceProblem, optimizeBody, type RunChoice } from '@/lib/run-choice'
import type { BatchBody, Limits, ProvidersResponse } from '@/lib/types'

import { batchApi, countGoals, type LineProblem } from './batch-api'
import { Progress, RecentBatches } from './batch-report'
import { type OnRoute, useBatch, useEstimate, useOpenBatch, useRecentBatches } from './use-batch'

const DEMO = 'demo'
const GOAL_FILES = '.txt,.jsonl,.json,text/plain'
const EXAMPLE = [
  'exactly five yellow rubber ducks in a row in a bathtub',
  '{"id": "sign", "goal": "a bakery sign that reads FRESH BREAD", "image_params": {"aspect_ratio": "16:9"}}',
].join('\n')

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

/** The goals box, the server's complaints line by line under it, and a file to load instead. */
function GoalsField(props: { goals: string; onChange: (goals: string) => void; problems: LineProblem[] }) {
  const { t } = useTranslation()
  const { goals, onChange, problems } = props
  const count = countGoals(goals)
  const loadFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0]
    if (file) void file.text().then(onChange)
  }
  return (
    <div>
      <TextAreaField
        label={t('batch.goalsLabel')}
        hint={t('count.goals', { count })}
        className="font-mono text-xs"
        id="batch-goals"
        rows={7}
        placeholder={EXAMPLE}
        value={goals}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={problems.length > 0}
        aria-describedby={problems.length ? 'batch-goal-problems' : undefined}
      />
      {problems.length > 0 && (
        <ul
          id="batch-goal-problems"
          data-testid="goal-problems"
          className="mt-2 space-y-1 text-sm text-rose-300"
        >
          {problems.map((p) => (
            <li key={p.line} data-line={p.line}>
              {t('batch.lineProblem', { line: p.line, message: problemText(p) })}
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
  )
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
        <GoalsField goals={goals} onChange={setGoals} problems={refused?.problems ?? []} />
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
