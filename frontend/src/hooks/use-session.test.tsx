import { act, renderHook, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { i18n } from '@/i18n'
import { useTranslation } from '@/i18n/react'
import { currentStep } from '@/lib/session-events'
import { makeIteration, makeRun, makeSession, makeStep } from '@/test/fixtures'

import { announce, useSession } from './use-session'

/** A stand-in for the browser's EventSource that tests drive by hand. */
class FakeEventSource {
  static CLOSED = 2
  static instances: FakeEventSource[] = []
  readyState = 1
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  private listeners = new Map<string, ((e: MessageEvent) => void)[]>()
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this)
  }
  addEventListener(name: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn])
  }
  emit(name: string, data: unknown) {
    for (const fn of this.listeners.get(name) ?? [])
      fn(new MessageEvent(name, { data: JSON.stringify(data) }))
  }
  close() {
    this.readyState = FakeEventSource.CLOSED
  }
}

const run = makeRun({ started_at: '2026-01-01T00:00:10Z' })
const running = makeSession({
  status: 'running',
  iterations: [makeIteration(0)],
  run,
  updated_at: '2026-01-01T00:00:10Z',
})

beforeEach(() => {
  FakeEventSource.instances = []
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(JSON.stringify(running), { status: 200 })),
  )
})
afterEach(() => vi.unstubAllGlobals())

describe('useSession', () => {
  it('loads a running session, follows its events and closes the stream on done', async () => {
    const { result } = renderHook(() => useSession('s1'))
    await waitFor(() => expect(result.current.session?.status).toBe('running'))
    const source = FakeEventSource.instances.at(-1)!
    expect(source.url).toBe('/api/sessions/s1/events')

    // Each event is a whole snapshot: the view shows it as it is.
    const revising = makeStep(1, 'revise')
    act(() =>
      source.emit('state', {
        ...running,
        current_step: revising,
        in_flight: [revising],
        updated_at: '2026-01-01T00:00:11Z',
      }),
    )
    expect(currentStep(result.current.session)).toEqual(revising)
    act(() =>
      source.emit('state', {
        ...running,
        iterations: [makeIteration(0), makeIteration(1, { judge_score: null })],
        updated_at: '2026-01-01T00:00:12Z',
      }),
    )
    expect(result.current.session?.iterations.map((it) => it.index)).toEqual([0, 1])
    // A snapshot older than the one shown (a slow REST answer) is dropped.
    act(() => source.emit('state', running))
    expect(result.current.session?.iterations).toHaveLength(2)

    const done = {
      ...running,
      status: 'done',
      iterations: [makeIteration(0), makeIteration(1)],
      best_index: 1,
      run: { ...run, stop_reason: 'completed', finished_at: '2026-01-01T00:00:20Z' },
      updated_at: '2026-01-01T00:00:20Z',
    }
    act(() => source.emit('done', done))
    expect(result.current.session?.status).toBe('done')
    expect(result.current.session?.best_index).toBe(1)
    expect(source.readyState).toBe(FakeEventSource.CLOSED)
  })

  it('follows a finished session too, and reopens its stream when another tab changes it', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify(makeSession({ status: 'done' })), { status: 200 })),
    )
    const { result } = renderHook(() => useSession('s1'))
    await waitFor(() => expect(result.current.session?.status).toBe('done'))
    expect(FakeEventSource.instances.map((s) => s.url)).toEqual(['/api/sessions/s1/events'])
    const first = FakeEventSource.instances[0]
    act(() => first.emit('done', makeSession({ status: 'done' })))
    expect(first.readyState).toBe(FakeEventSource.CLOSED)
    // Another tab starts a run on this session: this view opens the stream again and follows it.
    announce('s1')
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2))
    const second = FakeEventSource.instances[1]
    act(() => second.emit('state', makeSession({ status: 'running', updated_at: '2026-01-01T00:09:00Z' })))
    expect(result.current.session?.status).toBe('running')
  })

  it('reports a load error in the readable shape', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async () =>
          new Response(JSON.stringify({ code: 'not_found', message: 'No session s1' }), { status: 404 }),
      ),
    )
    const { result } = renderHook(() => useSession('s1'))
    await waitFor(() => expect(result.current.loadError?.code).toBe('not_found'))
    expect(result.current.session).toBeNull()
  })
})

describe('a session that cannot be loaded', () => {
  afterEach(async () => {
    await i18n.changeLanguage('en')
  })

  it('names its error in words that arrive after the error did', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async () =>
          new Response(JSON.stringify({ code: 'not_found', message: "No session 'x'.", details: {} }), {
            status: 404,
          }),
      ),
    )
    // Russian with its error words not loaded yet, as on a slow first visit.
    await i18n.changeLanguage('ru')
    const { result } = renderHook(() => {
      useTranslation()
      return useSession('x')
    })
    await waitFor(() => expect(result.current.loadError?.title).toBe('Не найдено'))
  })
})
