import { lazy, Suspense, useEffect, useState } from 'react'

import logo from '../../../assets/logo_horizontal.png'
import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { PulsingLogo } from '@/components/pulsing-logo'
import { Stepper } from '@/components/stepper'
import { useBatchRoute } from '@/features/batch/use-batch-route'
import { DescribeStep } from '@/features/describe/describe-step'
import { SessionOverview } from '@/features/describe/session-overview'
import { useRoute } from '@/hooks/use-route'
import { useSession } from '@/hooks/use-session'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { type Stage, stageOf } from '@/lib/flow'
import { currentStep } from '@/lib/session-events'
import type { ProvidersResponse } from '@/lib/types'

// Only step 1 ships in the first chunk; later steps load on demand (and are prefetched in main.tsx).
const PromptStep = lazy(() => import('@/features/prompt/prompt-step'))
const ReviewStep = lazy(() => import('@/features/review/review-step'))
const ResultStep = lazy(() => import('@/features/result/result-step'))
const HistoryList = lazy(() => import('@/features/history/history-list'))
const BatchPage = lazy(() => import('@/features/batch/batch-page'))

function useCatalog() {
  const [catalog, setCatalog] = useState<ProvidersResponse | null>(null)
  const [error, setError] = useState<ReadableError | null>(null)
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    const ctl = new AbortController()
    api.providers(ctl.signal).then(
      (c) => {
        setCatalog(c)
        setError(null)
      },
      (e: unknown) => !ctl.signal.aborted && setError(describeError(e)),
    )
    return () => ctl.abort()
  }, [attempt])
  return { catalog, error, retry: () => setAttempt((n) => n + 1) }
}

export function App() {
  const [route, navigate] = useRoute()
  const batchOpen = useBatchRoute()
  const { catalog, error: catalogError, retry } = useCatalog()
  const sessionId = route.name === 'session' ? route.id : null
  const { session, steps, state, loadError, apply } = useSession(sessionId)
  const [override, setOverride] = useState<{ id: string; base: Stage; view: Stage } | null>(null)

  // Providers and the open session load in parallel on start (no waterfall); the history loads its
  // first page only when it is shown, and further pages as the person scrolls.

  const reached: Stage = stageOf(session)
  const viewed: Stage | null =
    route.name === 'history'
      ? null
      : route.name === 'new'
        ? 'describe'
        : override && session && override.id === session.session_id && override.base === reached
          ? override.view
          : reached

  const openSession = (id: string) => navigate({ name: 'session', id })
  const startNew = () => navigate({ name: 'new' })
  const view = (stage: Stage) =>
    session && setOverride({ id: session.session_id, base: reached, view: stage })

  if (batchOpen)
    return (
      <Suspense fallback={<PulsingLogo label="Loading…" />}>
        <BatchPage catalog={catalog} />
      </Suspense>
    )
  return (
    <div className="mx-auto flex min-h-dvh max-w-6xl flex-col gap-5 px-3 py-4 sm:px-6 sm:py-6">
      <header className="flex flex-wrap items-center justify-between gap-3">
        <a href="#/" onClick={startNew} aria-label="SFUMATO home">
          <img src={logo} alt="SFUMATO" width={1200} height={300} className="h-10 w-auto sm:h-12" />
        </a>
        <nav className="flex items-center gap-2">
          <Button size="sm" variant={route.name === 'new' ? 'secondary' : 'ghost'} onClick={startNew}>
            New session
          </Button>
          <Button
            size="sm"
            variant={route.name === 'history' ? 'secondary' : 'ghost'}
            onClick={() => navigate({ name: 'history' })}
          >
            History
          </Button>
          <a className="rounded-lg px-3 py-1.5 text-sm text-zinc-300 hover:bg-zinc-800" href="#/batch">
            Batch
          </a>
        </nav>
      </header>

      {catalog?.text.mode === 'offline' && (
        <p
          data-testid="offline-banner"
          className="rounded-xl border border-amber-700/50 bg-amber-950/30 px-4 py-2 text-sm text-amber-100"
        >
          Text model: offline stand-in. Prompt writing, revising and judging use simple built-in rules, not an
          LLM. Set{' '}
          <code className="rounded bg-zinc-800 px-1">{catalog.text.missing_key ?? 'OPENROUTER_API_KEY'}</code>{' '}
          in .env and restart the server to use Grok.
        </p>
      )}

      <Stepper reached={route.name === 'session' ? reached : 'describe'} active={viewed} onSelect={view} />

      <main className="flex-1">
        <Suspense fallback={<PulsingLogo label="Loading…" />}>
          {route.name === 'history' && <HistoryList onOpen={openSession} onNew={startNew} />}
          {route.name === 'new' &&
            (catalog ? (
              <DescribeStep
                catalog={catalog}
                onCreated={(created) => {
                  apply(created.session)
                  openSession(created.session_id)
                }}
              />
            ) : catalogError ? (
              <div className="space-y-3">
                <ErrorAlert error={catalogError} />
                <Button onClick={retry}>Try again</Button>
              </div>
            ) : (
              <PulsingLogo label="Loading providers…" />
            ))}
          {route.name === 'session' &&
            !session &&
            (loadError ? (
              <div className="space-y-3">
                <ErrorAlert error={loadError} />
                <div className="flex gap-2">
                  <Button onClick={() => navigate({ name: 'history' })}>Open history</Button>
                  <Button variant="primary" onClick={startNew}>
                    New session
                  </Button>
                </div>
              </div>
            ) : (
              <PulsingLogo label="Loading session…" />
            ))}
          {route.name === 'session' && session && (
            <>
              {viewed === 'describe' && <SessionOverview session={session} onNew={startNew} />}
              {viewed === 'prompt' && (
                <PromptStep
                  key={session.session_id}
                  session={session}
                  maxPromptChars={catalog?.limits.max_prompt_chars ?? 8000}
                  onSession={apply}
                />
              )}
              {viewed === 'review' && (
                <ReviewStep
                  key={session.session_id}
                  session={session}
                  steps={steps}
                  current={currentStep(state)}
                  limits={
                    catalog?.limits ?? {
                      max_iterations: 10,
                      max_iterations_default: 3,
                      target_score_default: 90,
                      max_goal_chars: 2000,
                      max_prompt_chars: 8000,
                      max_feedback_chars: 2000,
                    }
                  }
                  onSession={apply}
                  onBackToPrompt={() => view('prompt')}
                />
              )}
              {viewed === 'result' && (
                <ResultStep
                  session={session}
                  steps={steps}
                  current={currentStep(state)}
                  maxIterations={catalog?.limits.max_iterations}
                  onSession={apply}
                />
              )}
            </>
          )}
        </Suspense>
      </main>

      <footer className="pt-4 text-center text-xs text-zinc-600">
        SFUMATO · prompt → image → judge → better prompt
      </footer>
    </div>
  )
}
