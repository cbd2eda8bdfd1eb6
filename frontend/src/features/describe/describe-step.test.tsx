import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { applyLanguage } from '@/i18n'
import { FALLBACK_LIMITS as limits } from '@/lib/limits'
import type { ProvidersResponse } from '@/lib/types'
import { makeCaps, makeSession } from '@/test/fixtures'

import DescribeStep from './describe-step'

const catalog = {
  providers: [
    { name: 'demo', label: 'Offline demo', available: true, is_demo: true, capabilities: makeCaps() },
  ],
  limits,
} as unknown as ProvidersResponse

function server() {
  const sent: Record<string, unknown>[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      sent.push(JSON.parse(String(init.body)))
      const session = makeSession()
      return new Response(JSON.stringify({ session_id: 's1', first_prompt_text: '', session }), {
        status: 201,
      })
    }),
  )
  return sent
}

afterEach(async () => {
  vi.unstubAllGlobals()
  localStorage.clear()
  await applyLanguage('en')
})

describe('a new session', () => {
  it.each([
    ['en', 'What do you want to see?', 'Write my prompt'],
    ['ru', 'Что вы хотите увидеть?', 'Написать промпт'],
  ])(
    'asks for the notes and advice in the language on screen (%s), whatever the goal is written in',
    async (language, label, submit) => {
      await applyLanguage(language as 'en' | 'ru', true)
      const user = userEvent.setup()
      const sent = server()
      const onCreated = vi.fn()
      render(<DescribeStep catalog={catalog} onCreated={onCreated} />)
      await user.type(screen.getByLabelText(label), 'a glass perfume bottle on wet black stone')
      await user.click(screen.getByRole('button', { name: submit }))
      await waitFor(() => expect(onCreated).toHaveBeenCalled())
      expect(sent[0]).toMatchObject({ goal: 'a glass perfume bottle on wet black stone', language })
    },
  )
})
