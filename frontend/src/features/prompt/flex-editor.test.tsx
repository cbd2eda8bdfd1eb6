import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'

import { frameOf, parseFlex } from '@/lib/flex'
import { PROMPT } from '@/test/fixtures'

import { FlexEditor } from './flex-editor'

function Harness({ initial = PROMPT, raw = false }: { initial?: string; raw?: boolean }) {
  const [text, setText] = useState(initial)
  const [locked, setLocked] = useState<string[]>([])
  return (
    <>
      <FlexEditor text={text} onChange={setText} locked={locked} onLockedChange={setLocked} raw={raw} />
      <output data-testid="text">{text}</output>
      <output data-testid="locked">{locked.join(',')}</output>
    </>
  )
}

const frame = (t: string) => {
  const p = parseFlex(t)
  if (!p.ok) throw new Error('broken')
  return frameOf(p.segments)
}

describe('FlexEditor', () => {
  it('shows one labelled field per block and edits keep the frame intact', async () => {
    const user = userEvent.setup()
    render(<Harness />)
    const subject = screen.getByRole('textbox', { name: /Subject/ })
    expect(subject).toHaveValue('a red fox asleep in snow')
    await user.clear(subject)
    await user.type(subject, 'an arctic hare')
    const text = screen.getByTestId('text').textContent ?? ''
    expect(text).toContain('## FLEX_BEGIN:subject\nan arctic hare\n## FLEX_END:subject')
    expect(frame(text)).toBe(frame(PROMPT))
    expect(screen.getByRole('textbox', { name: /Lighting/ })).toHaveValue('soft diffused daylight')
  })

  it('locks and unlocks blocks', async () => {
    const user = userEvent.setup()
    render(<Harness />)
    await user.click(screen.getByRole('button', { name: 'Lock Lighting' }))
    expect(screen.getByTestId('locked')).toHaveTextContent('lighting')
    expect(screen.getByRole('button', { name: 'Unlock Lighting' })).toHaveAttribute('aria-pressed', 'true')
    await user.click(screen.getByRole('button', { name: 'Unlock Lighting' }))
    expect(screen.getByTestId('locked')).toHaveTextContent('')
  })

  it('shows the raw text on request and when the markup is broken', () => {
    const { unmount } = render(<Harness raw />)
    expect(screen.getByLabelText('Raw prompt text')).toHaveValue(PROMPT)
    unmount()
    render(<Harness initial={'## FLEX_BEGIN:subject\nfox\n'} />)
    expect(screen.getByRole('alert')).toHaveTextContent(/line 1/)
    expect(screen.getByLabelText('Raw prompt text')).toBeInTheDocument()
  })
})
