import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'

import type { ChecklistItem } from '@/lib/types'
import { makeSession } from '@/test/fixtures'

import { ChecklistEditor } from './checklist-editor'

const checklist: ChecklistItem[] = [
  { id: 'q1', question: 'Is there one fox?', source: 'goal', reference: null },
  { id: 'q2', question: 'Is it snowing?', source: 'goal', reference: null },
  { id: 'q3', question: 'Is the light warmer?', source: 'feedback', reference: null },
  { id: 'q4', question: 'Is the bottle the one in reference 1?', source: 'reference', reference: 'r1' },
]

afterEach(() => vi.unstubAllGlobals())

describe('ChecklistEditor', () => {
  it('edits, deletes and adds questions, then saves them with their ids', async () => {
    const saved = makeSession({ checklist: [], checklist_version: 2 })
    const fetchMock = vi.fn(async () => new Response(JSON.stringify(saved), { status: 200 }))
    vi.stubGlobal('fetch', fetchMock)
    const onSession = vi.fn()
    const onDirty = vi.fn()
    render(
      <ChecklistEditor
        session={makeSession({ checklist, checklist_version: 1 })}
        maxItems={16}
        onSession={onSession}
        onDirtyChange={onDirty}
      />,
    )
    const user = userEvent.setup()
    const first = screen.getByRole('textbox', { name: 'Checklist question 1' })
    await user.clear(first)
    await user.paste('Is there exactly one fox?')
    await user.click(screen.getByRole('button', { name: 'Delete question 2' }))
    await user.click(screen.getByRole('textbox', { name: 'New checklist question' }))
    await user.paste('Is it dawn?')
    await user.keyboard('{Enter}')
    expect(onDirty).toHaveBeenLastCalledWith(true)
    await user.click(screen.getByRole('button', { name: 'Save checklist' }))
    await waitFor(() => expect(onSession).toHaveBeenCalledWith(saved))
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/sessions/s1/checklist')
    expect(init.method).toBe('PUT')
    expect(JSON.parse(init.body as string)).toEqual({
      checklist: [
        { id: 'q1', question: 'Is there exactly one fox?', source: 'goal' },
        { id: 'q3', question: 'Is the light warmer?', source: 'feedback' },
        // A question tied to a reference image keeps its tie (issue 19).
        { id: 'q4', question: 'Is the bottle the one in reference 1?', source: 'reference', reference: 'r1' },
        { question: 'Is it dawn?', source: 'goal' },
      ],
    })
  })

  it('will not save an empty question, and shows the server refusing a change during a run', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async () =>
          new Response(JSON.stringify({ code: 'run_in_progress', message: 'A run is going.' }), {
            status: 409,
          }),
      ),
    )
    render(<ChecklistEditor session={makeSession({ checklist })} maxItems={3} onSession={() => undefined} />)
    const user = userEvent.setup()
    // Full: no room for a fourth question.
    expect(screen.getByRole('textbox', { name: 'New checklist question' })).toBeDisabled()
    await user.clear(screen.getByRole('textbox', { name: 'Checklist question 2' }))
    expect(screen.getByRole('button', { name: 'Save checklist' })).toBeDisabled()
    expect(screen.getByText(/Question 2 is empty/)).toBeInTheDocument()
    await user.paste('Is it snowing hard?')
    await user.click(screen.getByRole('button', { name: 'Save checklist' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('A run is already going')
  })

  it('is read-only while a run is going', () => {
    render(
      <ChecklistEditor
        session={makeSession({ checklist, status: 'running' })}
        maxItems={16}
        onSession={() => undefined}
      />,
    )
    expect(screen.getByRole('textbox', { name: 'Checklist question 1' })).toBeDisabled()
    expect(screen.getByText(/A run is going/)).toBeInTheDocument()
  })
})
