import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { announce } from '@/hooks/use-session'
import type { SessionSummary } from '@/lib/types'

import HistoryList from './history-list'
import { RUNNING_CHECK_MS } from './use-history-pages'

function summary(n: number, extra: Partial<SessionSummary> = {}): SessionSummary {
  const id = n.toString(16).padStart(32, '0')
  return {
    session_id: id,
    user_goal: `goal number ${n}`,
    image_provider: 'demo',
    status: 'done',
    demo: true,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    iterations: 2,
    best_score: 70,
    best_image_url: `/media/${id}/iter_1.png`,
    thumbnail_url: `/media/${id}/thumb_1.jpg`,
    ...extra,
  }
}

/** A fake backend: pages of two, newest first, with the server's filters applied. */
function backend(all: SessionSummary[]) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(String(input), 'http://x')
    const q = (url.searchParams.get('q') ?? '').toLowerCase()
    const matching = all.filter((s) => s.user_goal.toLowerCase().includes(q))
    const start = Number(url.searchParams.get('cursor') ?? 0)
    const page = matching.slice(start, start + 2)
    const next = start + 2 < matching.length ? String(start + 2) : null
    return new Response(JSON.stringify({ sessions: page, next_cursor: next }), { status: 200 })
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

const urls = (mock: ReturnType<typeof backend>) => mock.mock.calls.map((c) => String(c[0]))

afterEach(() => vi.unstubAllGlobals())

describe('HistoryList', () => {
  it('loads one page first, then the next when asked, with thumbnails', async () => {
    const mock = backend([summary(5), summary(4), summary(3)])
    render(<HistoryList onOpen={() => undefined} onNew={() => undefined} />)
    const list = await screen.findByTestId('history-list')
    await waitFor(() => expect(within(list).getAllByRole('button')).toHaveLength(2))
    expect(urls(mock)).toEqual(['/api/sessions?limit=30'])
    const thumb = list.querySelector('img')
    expect(thumb).toHaveAttribute('src', `/media/${summary(5).session_id}/thumb_1.jpg`)

    await userEvent.click(screen.getByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(within(list).getAllByRole('button')).toHaveLength(3))
    expect(urls(mock)[1]).toBe('/api/sessions?limit=30&cursor=2')
    expect(screen.queryByTestId('history-more')).not.toBeInTheDocument()
  })

  it('searches goals on the server and starts again from the first page', async () => {
    const mock = backend([summary(5), summary(4, { user_goal: 'a red fox' }), summary(3)])
    render(<HistoryList onOpen={() => undefined} onNew={() => undefined} />)
    await screen.findByTestId('history-list')
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search goals' }), 'fox')
    await waitFor(() => {
      expect(screen.getByText('a red fox')).toBeInTheDocument()
      expect(screen.queryByText('goal number 5')).not.toBeInTheDocument()
    })
    expect(urls(mock).at(-1)).toBe('/api/sessions?limit=30&q=fox')
  })

  it('says when nothing matches, and offers a first session when there is none', async () => {
    backend([])
    const onNew = vi.fn()
    render(<HistoryList onOpen={() => undefined} onNew={onNew} />)
    await userEvent.click(await screen.findByRole('button', { name: 'Start one' }))
    expect(onNew).toHaveBeenCalled()
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'failed')
    expect(await screen.findByText('No session matches.')).toBeInTheDocument()
  })

  it('loads the next page when the end of the list scrolls into view', async () => {
    const observed: ((entries: { isIntersecting: boolean }[]) => void)[] = []
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(callback: (entries: { isIntersecting: boolean }[]) => void) {
          observed.push(callback)
        }
        observe() {}
        disconnect() {}
      },
    )
    const mock = backend([summary(5), summary(4), summary(3)])
    render(<HistoryList onOpen={() => undefined} onNew={() => undefined} />)
    await screen.findByTestId('history-list')
    act(() => observed.at(-1)?.([{ isIntersecting: true }]))
    await waitFor(() => expect(screen.getByText('goal number 3')).toBeInTheDocument())
    expect(urls(mock)).toEqual(['/api/sessions?limit=30', '/api/sessions?limit=30&cursor=2'])
  })

  it('follows a status change announced by another tab, keeping every page loaded', async () => {
    const all = [summary(5), summary(4), summary(3)]
    const mock = backend(all)
    render(<HistoryList onOpen={() => undefined} onNew={() => undefined} />)
    const list = await screen.findByTestId('history-list')
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(within(list).getAllByRole('button')).toHaveLength(3))
    const before = mock.mock.calls.length

    all[2] = summary(3, { status: 'running' })
    announce(all[2].session_id)
    await waitFor(() => expect(within(list).getByText('running')).toBeInTheDocument())
    expect(within(list).getAllByRole('button')).toHaveLength(3)
    // The loaded sessions were fetched again from the first page, as many as were shown.
    expect(urls(mock).slice(before)).toEqual(['/api/sessions?limit=30', '/api/sessions?limit=28&cursor=2'])
  })

  it('looks again every few seconds while a shown session runs, and stops when none does', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      const all = [summary(2, { status: 'running' }), summary(1)]
      const mock = backend(all)
      render(<HistoryList onOpen={() => undefined} onNew={() => undefined} />)
      const list = await screen.findByTestId('history-list')
      expect(within(list).getByText('running')).toBeInTheDocument()

      all[0] = summary(2, { status: 'done' })
      await act(() => vi.advanceTimersByTimeAsync(RUNNING_CHECK_MS))
      await waitFor(() => expect(within(list).queryByText('running')).not.toBeInTheDocument())
      const calls = mock.mock.calls.length
      expect(calls).toBe(2)
      await act(() => vi.advanceTimersByTimeAsync(RUNNING_CHECK_MS * 3))
      expect(mock.mock.calls.length).toBe(calls)
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not look again while the tab is hidden', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden')
    try {
      const mock = backend([summary(2, { status: 'running' }), summary(1)])
      render(<HistoryList onOpen={() => undefined} onNew={() => undefined} />)
      await screen.findByTestId('history-list')
      await act(() => vi.advanceTimersByTimeAsync(RUNNING_CHECK_MS * 3))
      expect(mock).toHaveBeenCalledTimes(1)
    } finally {
      hidden.mockRestore()
      vi.useRealTimers()
    }
  })
})
