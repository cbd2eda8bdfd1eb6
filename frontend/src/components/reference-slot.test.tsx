import { act, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { useState } from 'react'
import { describe, expect, it, vi } from 'vitest'

import type { DraftReference } from './reference-list'
import { ReferenceSlot } from './reference-slot'

// A real 1x1 PNG: the picker reads files with the browser's FileReader, as in the app.
const PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
)

function Harness() {
  const [items, setItems] = useState<DraftReference[]>([])
  return (
    <>
      <ReferenceSlot items={items} onChange={setItems} modelMax={3} modelName="m" />
      <output data-testid="order">{items.map((r) => r.name).join(',')}</output>
    </>
  )
}

describe('ReferenceSlot', () => {
  it('keeps the picker off the first screen until the person works on the form', async () => {
    render(<Harness />)
    expect(screen.getByRole('heading', { name: 'Reference images (optional)' })).toBeInTheDocument()
    await act(async () => {
      await import('./reference-picker') // loaded or not, it is not shown before any intent
    })
    expect(screen.queryByTestId('reference-picker')).toBeNull()
    fireEvent.keyDown(document.body, { key: 'a' })
    expect(await screen.findByTestId('reference-picker')).toBeInTheDocument()
  })

  it('opens the file dialog when "Add images" was pressed before the picker arrived', async () => {
    const opened = vi.spyOn(HTMLInputElement.prototype, 'click').mockImplementation(() => undefined)
    render(<Harness />)
    fireEvent.click(screen.getByRole('button', { name: 'Add images' }))
    expect(await screen.findByTestId('reference-picker')).toBeInTheDocument()
    await waitFor(() => expect(opened).toHaveBeenCalledTimes(1))
    expect((opened.mock.contexts[0] as HTMLInputElement).type).toBe('file')
    opened.mockRestore()
  })

  it('adds an image dropped before the picker arrived', async () => {
    render(<Harness />)
    const file = new File([PNG], 'early.png', { type: 'image/png' })
    fireEvent.drop(screen.getByText(/or drop them here/), { dataTransfer: { files: [file] } })
    expect(await screen.findByTestId('reference-picker')).toBeInTheDocument()
    expect(await screen.findByText('early.png', { selector: 'output' })).toBeInTheDocument()
  })
})
