import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'

import { RadioGroup } from './radio-group'

function Harness() {
  const [value, setValue] = useState(1)
  return (
    <RadioGroup
      label="Candidates"
      value={value}
      onChange={setValue}
      options={[1, 2, 3].map((n) => ({ value: n, label: String(n) }))}
    />
  )
}

describe('RadioGroup', () => {
  it('is one tab stop; arrow keys move the choice and the focus, wrapping around', async () => {
    render(
      <>
        <button>before</button>
        <Harness />
      </>,
    )
    const user = userEvent.setup()
    await user.click(screen.getByText('before'))
    await user.tab()
    expect(screen.getByRole('radio', { name: '1' })).toHaveFocus()
    expect(screen.getAllByRole('radio').filter((r) => r.tabIndex === 0)).toHaveLength(1)
    await user.keyboard('{ArrowRight}')
    expect(screen.getByRole('radio', { name: '2' })).toHaveAttribute('aria-checked', 'true')
    expect(screen.getByRole('radio', { name: '2' })).toHaveFocus()
    await user.keyboard('{ArrowLeft}{ArrowLeft}')
    expect(screen.getByRole('radio', { name: '3' })).toHaveAttribute('aria-checked', 'true')
    await user.keyboard('{Home}')
    expect(screen.getByRole('radio', { name: '1' })).toHaveAttribute('aria-checked', 'true')
  })
})
