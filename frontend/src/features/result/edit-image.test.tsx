import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { forgetProviders } from '@/components/reference-capacity'
import { FALLBACK_LIMITS as limits } from '@/lib/limits'
import type { Session } from '@/lib/types'
import { makeCatalog, makeIteration, makeRun, makeSession } from '@/test/fixtures'

import ResultStep from './result-step'

/** The server, faked at fetch: the providers' catalogue, and whatever a POST answers. */
function server(maxInputImages: number, answer: Session, others: Record<string, number> = {}) {
  const catalog = makeCatalog({ demo: maxInputImages, ...others })
  const calls: { url: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      if (init.method === 'GET') return new Response(JSON.stringify(catalog), { status: 200 })
      calls.push({ url, body: JSON.parse(String(init.body)) })
      return new Response(JSON.stringify(answer), { status: 200 })
    }),
  )
  return calls
}

const done = (extra: Partial<Session> = {}) =>
  makeSession({
    status: 'done',
    iterations: [makeIteration(0, { round: 0 }), makeIteration(1, { round: 1 })],
    best_index: 1,
    run: makeRun({ finished_at: '2026-01-01T00:01:00Z', stop_reason: 'completed', rounds_done: 1 }),
    ...extra,
  })
const props = { limits, onBranch: async () => undefined }

beforeEach(() => forgetProviders())
afterEach(() => vi.unstubAllGlobals())

describe('Edit this image', () => {
  it('sends the instruction with edit_from and shows the new image as edited from #n', async () => {
    const user = userEvent.setup()
    const edited = done({
      iterations: [...done().iterations, makeIteration(2, { round: 0, edited_from: 1 })],
    })
    const calls = server(3, edited)
    const onSession = vi.fn()
    const { rerender } = render(<ResultStep session={done()} onSession={onSession} {...props} />)
    await user.click(await screen.findByRole('button', { name: 'Edit this image (#1)' }))
    await user.type(screen.getByLabelText('What should change in #1?'), 'only the sky, bluer')
    await user.click(screen.getByRole('button', { name: /^Edit$/ }))
    await waitFor(() => expect(onSession).toHaveBeenCalledWith(edited))
    expect(calls).toEqual([
      {
        url: '/api/sessions/s1/generate',
        body: { edit_from: 1, instruction: 'only the sky, bluer', wait: false },
      },
    ])
    rerender(<ResultStep session={edited} onSession={onSession} {...props} />)
    const card = screen.getByTestId('timeline').querySelector('li[data-index="2"]') as HTMLElement
    expect(within(card).getByTestId('edited-from')).toHaveTextContent('edited from #1')
    // A single edit has round 0 like the first image, but is listed after the rounds, as an edit.
    expect(screen.getByRole('region', { name: 'Edits' })).toContainElement(card)
    expect(screen.getByRole('region', { name: 'First image' })).not.toContainElement(card)
  })

  it('is not offered where the model takes no input images', async () => {
    // Two pages read the one catalogue: once the page whose model takes images offers Edit, the
    // answer has reached both, so the other's missing button is the model's doing, not a wait.
    server(0, done(), { acme: 2 })
    const none = render(<ResultStep session={done()} onSession={() => undefined} {...props} />)
    const takes = done({ session_id: 's2', image_provider: 'acme' })
    const other = render(<ResultStep session={takes} onSession={() => undefined} {...props} />)
    await within(other.container).findByRole('button', { name: 'Edit this image (#1)' })
    expect(within(none.container).queryByRole('button', { name: /Edit this image \(#/ })).toBeNull()
  })

  it('keep improving in edit mode sends mode "edit"', async () => {
    const user = userEvent.setup()
    const calls = server(2, done())
    render(<ResultStep session={done()} onSession={() => undefined} {...props} />)
    await screen.findByRole('button', { name: 'Edit this image (#1)' })
    await user.click(screen.getByRole('button', { name: 'Keep improving…' }))
    await user.click(screen.getByRole('radio', { name: 'Edit the best image' }))
    await user.click(screen.getByRole('button', { name: /^Run \d/ }))
    // (The run options also ask for an estimate; only the run is looked at.)
    const runs = () => calls.filter((c) => c.url === '/api/sessions/s1/optimize/run')
    await waitFor(() => expect(runs()).toHaveLength(1))
    expect(runs()[0].body).toMatchObject({ mode: 'edit', wait: false })
  })
})

describe('References on the result page', () => {
  it('shows each reference beside first and best, labelled with its role and label', () => {
    server(3, done())
    const references = [
      { id: 'r1', role: 'subject', label: 'the bottle', url: '/media/s1/ref_r1.png' },
      { id: 'r2', role: 'style', label: '', url: '/media/s1/ref_r2.jpg' },
    ].map((r) => ({
      ...r,
      file: '',
      width: 8,
      height: 8,
      mime: 'image/png',
      created_at: '',
    })) as Session['references']
    render(<ResultStep session={done({ references })} onSession={() => undefined} {...props} />)
    const strip = within(screen.getByTestId('hero')).getByTestId('reference-strip')
    const images = within(strip).getAllByRole('img')
    expect(images.map((i) => i.getAttribute('alt'))).toEqual([
      'Reference 1: the bottle',
      'Reference 2: Style',
    ])
    expect(images[0]).toHaveAttribute('src', '/media/s1/ref_r1.png')
    expect(strip).toHaveTextContent('Subject')
  })
})
