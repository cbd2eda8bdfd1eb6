import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { forgetProviders } from '@/components/reference-capacity'
import { FALLBACK_LIMITS as limits } from '@/lib/limits'
import type { Session } from '@/lib/types'
import { makeCatalog, makeIteration, makeSession } from '@/test/fixtures'

import ReviewStep from './review-step'

/** The server at fetch: the catalogue (the demo model takes `maxInputImages`), and every POST. */
function server(maxInputImages: number, others: Record<string, number> = {}) {
  const catalog = makeCatalog({ demo: maxInputImages, ...others })
  const posts: { url: string; body: Record<string, unknown> }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      if (init.method === 'GET') return new Response(JSON.stringify(catalog), { status: 200 })
      posts.push({ url, body: JSON.parse(String(init.body)) })
      const answer = url.endsWith('/estimate')
        ? { usd: 0, low: 0, high: 0, llm_calls: 4, basis: {} }
        : first()
      return new Response(JSON.stringify(answer), { status: 200 })
    }),
  )
  return posts
}

const first = (extra: Partial<Session> = {}): Session =>
  makeSession({ status: 'draft', iterations: [makeIteration(0, { round: 0 })], best_index: 0, ...extra })
const show = (session: Session = first()) =>
  render(
    <ReviewStep
      session={session}
      limits={limits}
      onSession={() => undefined}
      onBackToPrompt={() => undefined}
      onShowResult={() => undefined}
      onBranch={async () => undefined}
    />,
  )

beforeEach(() => forgetProviders())
afterEach(() => vi.unstubAllGlobals())

describe('the first optimize run from the review step', () => {
  it('can edit the first image where the model takes input images, priced and sent as an edit run', async () => {
    const user = userEvent.setup()
    const posts = server(2)
    show()
    await user.click(await screen.findByRole('radio', { name: 'Edit the best image' }))
    const estimates = () => posts.filter((p) => p.url.endsWith('/optimize/estimate'))
    await waitFor(() => expect(estimates().at(-1)?.body).toMatchObject({ mode: 'edit' }))
    await user.click(screen.getByRole('button', { name: /Improve/ }))
    const runs = () => posts.filter((p) => p.url.endsWith('/optimize/run'))
    await waitFor(() => expect(runs()).toHaveLength(1))
    expect(runs()[0].body).toMatchObject({ mode: 'edit' })
  })

  it('does not offer edit mode where the model takes no input images, and sends a plain run', async () => {
    const user = userEvent.setup()
    const posts = server(0, { acme: 2 })
    const none = show()
    // A second page on the same catalogue whose model takes images: once it offers edit mode, the
    // answer has reached both, so the first page's missing choice is the model's doing.
    const other = show(first({ session_id: 's2', image_provider: 'acme' }))
    await within(other.container).findByRole('radio', { name: 'Edit the best image' })
    expect(within(none.container).queryByTestId('edit-mode')).toBeNull()
    await user.click(within(none.container).getByRole('button', { name: /Improve/ }))
    const runs = () => posts.filter((p) => p.url === '/api/sessions/s1/optimize/run')
    await waitFor(() => expect(runs()).toHaveLength(1))
    expect(runs()[0].body).not.toHaveProperty('mode')
  })
})
