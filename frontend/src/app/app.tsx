import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react'
import { useTranslation } from '@/i18n/react'

import { AppHeader } from '@/components/app-header'
import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { OfflineBanner } from '@/components/offline-banner'
import { PulsingLogo } from '@/components/pulsing-logo'
import { Stepper } from '@/components/stepper'
import { useRoute } from '@/hooks/use-route'
import { withStrings } from '@/i18n'
import { useSession } from '@/hooks/use-session'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { clearDraft, draftKeys } from '@/lib/drafts'
import { type Stage, stageIndex, stageOf } from '@/lib/flow'
import { FALLBACK_LIMITS } from '@/lib/limits'
import type { ProvidersResponse, Session } from '@/lib/types'

// The first chunk is the shell; every step loads on demand (main.tsx starts the likely one at once).
// The goal form needs only the first part of the strings; the other pages wait for the rest too.
const DescribeStep = lazy(() => import('@/features/describe/describe-step'))
const PromptStep = lazy(() => withStrings(import('@/features/prompt/prompt-step')))
const ReviewStep = lazy(() => withStrings(import('@/features/review/review-step')))
const ResultStep = lazy(() => withStrings(import('@/features/result/result-step')))
const HistoryList = lazy(() => withStrings(import('@/features/history/history-list')))
const BatchPage = lazy(() => withStrings(import('@/features/batch/batch-page')))
const SessionOverview = lazy(() =>
  withStrings(import('@/features/describe/session-overview').then((m) => ({ default: m.SessionOverview }))),
)

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
  const { t } = useTranslation()
  const [route, navigate] = useRoute()
  const batchOpen = route.name === 'batch'
  const { catalog, error: catalogError, retry } = useCatalog()
  const sessionId = route.name === 'session' ? route.id : null
  const { session, loadError, apply } = useSession(sessionId)
  const limits = catalog?.limits ? { ...FALLBACK_LIMITS, ...catalog.limits } : FALLBACK_LIMITS

  // Providers and the open session load in parallel on start (no waterfall); the history loads its
  // first page only when it is shown, and further pages as the person scrolls.

  const reached: Stage = stageOf(session)
  const requested = route.name === 'session' ? route.stage : undefined
  const viewed: Stage | null =
    route.name === 'history' || batchOpen
      ? null
      : route.name === 'new'
        ? 'describe'
        : requested && stageIndex(requested) <= stageIndex(reached)
          ? requested
          : reached

  // The URL always names the step on screen. When the session moves on (first image made, run
  // started) while its furthest step was on screen, follow it as a new history entry, so browser
  // Back returns to the step before.
  const last = useRef<{ id: string; reached: Stage } | null>(null)
  useEffect(() => {
    if (route.name !== 'session' || !session || session.session_id !== route.id) return
    const prev = last.current
    last.current = { id: session.session_id, reached }
    if (!route.stage) {
      navigate({ name: 'session', id: route.id, stage: reached }, { replace: true })
    } else if (
      prev &&
      prev.id === session.session_id &&
      prev.reached !== reached &&
      route.stage === prev.reached
    ) {
      navigate({ name: 'session', id: route.id, stage: reached })
    }
  }, [route, session, reached, navigate])

  const openSession = (id: string) => navigate({ name: 'session', id })
  const openBatch = useCallback(
    (id: string | null, opts: { replace?: boolean } = {}) =>
      navigate(id ? { name: 'batch', id } : { name: 'batch' }, { replace: opts.replace ?? !id }),
    [navigate],
  )
  const startNew = () => {
    clearDraft(draftKeys.describe)
    navigate({ name: 'new' })
  }
  const view = (stage: Stage) => session && navigate({ name: 'session', id: session.session_id, stage })
  const onBranch = useCallback(
    async (iteration: number | null) => {
      if (!session) return
      // One call, no model call: same goal and settings, that prompt, the goal's checklist.
      const branched = (await api.branch(session.session_id, iteration)).session
      apply(branched)
      navigate({ name: 'session', id: branched.session_id, stage: 'prompt' })
    },
    [session, apply, navigate],
  )

  // What the review and result steps both take.
  const stepProps = (shown: Session) => ({ session: shown, limits, onSession: apply, onBranch })

  const heading = batchOpen
    ? t('heading.batch')
    : route.name === 'history'
      ? t('heading.history')
      : t(`heading.${viewed ?? 'describe'}`)
  return (
    <div className="mx-auto flex min-h-dvh max-w-6xl flex-col gap-2.5 px-3 py-2 sm:gap-4 sm:px-6 sm:py-5">
      <AppHeader
        place={batchOpen ? 'batch' : route.name === 'new' || route.name === 'history' ? route.name : null}
        onNew={startNew}
        onHistory={() => navigate({ name: 'history' })}
      />

      {catalog?.text.mode === 'offline' && (
        <OfflineBanner missingKey={catalog.text.missing_key ?? 'OPENROUTER_API_KEY'} />
      )}

      {route.name !== 'history' && !batchOpen && (
        <Stepper reached={route.name === 'session' ? reached : 'describe'} active={viewed} onSelect={view} />
      )}

      <h1 className="text-xl font-semibold text-white sm:text-2xl">{heading}</h1>

      <main className="flex-1">
        <Suspense fallback={<PulsingLogo label={t('common.loading')} />}>
          {route.name === 'batch' && (
            <BatchPage catalog={catalog} limits={limits} routeId={route.id} onRoute={openBatch} />
          )}
          {!batchOpen && route.name === 'history' && <HistoryList onOpen={openSession} onNew={startNew} />}
          {!batchOpen &&
            route.name === 'new' &&
            (catalog ? (
              <DescribeStep
                catalog={catalog}
                onCreated={(created) => {
                  apply(created.session)
                  navigate({ name: 'session', id: created.session_id, stage: 'prompt' })
                }}
              />
            ) : catalogError ? (
              <div className="space-y-3">
                <ErrorAlert error={catalogError} />
                <Button onClick={retry}>{t('common.tryAgain')}</Button>
              </div>
            ) : (
              <PulsingLogo label={t('app.loadingProviders')} />
            ))}
          {!batchOpen &&
            route.name === 'session' &&
            !session &&
            (loadError ? (
              <div className="space-y-3">
                <ErrorAlert error={loadError} />
                <div className="flex gap-2">
                  <Button onClick={() => navigate({ name: 'history' })}>{t('app.openHistory')}</Button>
                  <Button variant="primary" onClick={startNew}>
                    {t('header.new')}
                  </Button>
                </div>
              </div>
            ) : (
              <PulsingLogo label={t('app.loadingSession')} />
            ))}
          {!batchOpen && route.name === 'session' && session && (
            <>
              {viewed === 'describe' && <SessionOverview session={session} onNew={startNew} />}
              {viewed === 'prompt' && (
                <PromptStep
                  key={session.session_id}
                  session={session}
                  maxPromptChars={limits.max_prompt_chars}
                  onSession={apply}
                  onBranch={onBranch}
                />
              )}
              {viewed === 'review' && (
                <ReviewStep
                  key={session.session_id}
                  {...stepProps(session)}
                  onBackToPrompt={() => view('prompt')}
                  onShowResult={() => view('result')}
                />
              )}
              {viewed === 'result' && <ResultStep key={session.session_id} {...stepProps(session)} />}
            </>
          )}
        </Suspense>
      </main>

      <footer className="pt-4 text-center text-xs text-zinc-400">{t('app.footer')}</footer>
    </div>
  )
}
