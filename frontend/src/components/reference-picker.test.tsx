import { fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'

import { MAX_REFERENCE_BYTES, MAX_REFERENCES } from '@/lib/limits.gen'

import { move, sortFiles } from './reference-files'
import { type DraftReference, referenceCap, referencesProblem, toInputs } from './reference-list'
import { ReferencePicker } from './reference-picker'

// A real 1x1 PNG: the picker reads files with the browser's FileReader, as in the app.
const PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
)
const png = (name: string) => new File([PNG], name, { type: 'image/png' })

function Harness({ modelMax = 3, start = [] }: { modelMax?: number; start?: DraftReference[] }) {
  const [items, setItems] = useState<DraftReference[]>(start)
  return (
    <>
      <ReferencePicker items={items} onChange={setItems} modelMax={modelMax} modelName="test-model" />
      <output data-testid="sent">
        {JSON.stringify(toInputs(items).map(({ role, label }) => [role, label]))}
      </output>
      <output data-testid="order">{items.map((r) => r.name).join(',')}</output>
    </>
  )
}

const draft = (name: string): DraftReference => ({
  key: name,
  name,
  image: 'data:image/png;base64,AAAA',
  role: 'subject',
  label: '',
})
const order = () => screen.getByTestId('order').textContent
const fileInput = () => screen.getByTestId('reference-file') as HTMLInputElement

describe('ReferencePicker', () => {
  it('adds picked PNG files as thumbnails read into data URLs, up to the model limit', async () => {
    render(<Harness modelMax={2} />)
    fireEvent.change(fileInput(), { target: { files: [png('a.png'), png('b.png'), png('c.png')] } })
    await waitFor(() => expect(screen.getAllByRole('img')).toHaveLength(2))
    expect((screen.getAllByRole('img')[0] as HTMLImageElement).src).toMatch(/^data:image\/png;base64,/)
    expect(screen.getByRole('alert')).toHaveTextContent('c.png was not added')
    expect(screen.getByRole('button', { name: 'Add images' })).toBeDisabled()
  })

  it('refuses other types and files over MAX_REFERENCE_BYTES with a message naming the file', async () => {
    render(<Harness />)
    const big = new File([PNG], 'huge.png', { type: 'image/png' })
    Object.defineProperty(big, 'size', { value: MAX_REFERENCE_BYTES + 1 })
    const gif = new File([PNG], 'anim.gif', { type: 'image/gif' })
    fireEvent.change(fileInput(), { target: { files: [big, gif] } })
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('huge.png is larger than 20 MB')
    expect(alert).toHaveTextContent('anim.gif is not a PNG, JPEG or WebP image')
    expect(screen.queryAllByRole('img')).toHaveLength(0)
  })

  it('says a model takes no references, before anything is added, and adds nothing', async () => {
    render(<Harness modelMax={0} />)
    expect(screen.getByTestId('references-none')).toHaveTextContent('test-model takes no reference images')
    expect(screen.getByRole('button', { name: 'Add images' })).toBeDisabled()
    fireEvent.drop(screen.getByTestId('reference-drop'), { dataTransfer: { files: [png('a.png')] } })
    await screen.findByRole('alert')
    expect(screen.queryAllByRole('img')).toHaveLength(0)
  })

  it('takes dropped and pasted images', async () => {
    render(<Harness />)
    fireEvent.drop(screen.getByTestId('reference-drop'), { dataTransfer: { files: [png('dropped.png')] } })
    await waitFor(() => expect(order()).toBe('dropped.png'))
    const paste = new Event('paste', { bubbles: true }) as Event & { clipboardData: unknown }
    paste.clipboardData = { files: [png('pasted.png')] }
    document.dispatchEvent(paste)
    await waitFor(() => expect(order()).toBe('dropped.png,pasted.png'))
  })

  it('changes a role and a label, and sends them in order', async () => {
    const user = userEvent.setup()
    render(<Harness start={[draft('a.png'), draft('b.png')]} />)
    await user.selectOptions(screen.getByLabelText('Role of reference 2'), 'style')
    await user.type(screen.getByLabelText('Label of reference 1'), 'the bottle')
    expect(JSON.parse(screen.getByTestId('sent').textContent!)).toEqual([
      ['subject', 'the bottle'],
      ['style', ''],
    ])
  })

  it('reorders with the keyboard, keeping focus on the button pressed', async () => {
    const user = userEvent.setup()
    render(<Harness start={[draft('a.png'), draft('b.png'), draft('c.png')]} />)
    expect(screen.getByRole('button', { name: 'Move reference 1 left' })).toBeDisabled()
    screen.getByRole('button', { name: 'Move reference 1 right' }).focus()
    await user.keyboard('{Enter}')
    expect(order()).toBe('b.png,a.png,c.png')
    // Focus followed the moved image (now reference 2), so Enter again moves it once more.
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Move reference 2 right' }))
    await user.keyboard('{Enter}')
    expect(order()).toBe('b.png,c.png,a.png')
    // At the end of the row "right" is off; the focus moved to its twin.
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Move reference 3 left' }))
    await user.keyboard('{Enter}')
    expect(order()).toBe('b.png,a.png,c.png')
    const list = screen.getByRole('list', { name: 'Reference images, in order' })
    await user.click(within(list).getByRole('button', { name: 'Remove reference 1' }))
    expect(order()).toBe('a.png,c.png')
  })
})

describe('reference rules', () => {
  it('cap at the model limit and never above MAX_REFERENCES', () => {
    const files = Array.from({ length: MAX_REFERENCES + 2 }, (_, i) => ({
      name: `${i}.png`,
      type: 'image/png',
      size: 10,
    }))
    expect(referenceCap(100)).toBe(MAX_REFERENCES)
    expect(sortFiles(files, 0, referenceCap(100)).accepted).toHaveLength(MAX_REFERENCES)
    expect(sortFiles(files, 1, 3).accepted).toHaveLength(2)
  })

  it('block sending more references than the model takes, or any to a model that takes none', () => {
    const three = [draft('a'), draft('b'), draft('c')]
    expect(referencesProblem(three, 3)).toBeNull()
    expect(referencesProblem(three, 2)).toMatch(/1 reference too many/)
    expect(referencesProblem(three, 0)).toMatch(/takes no reference images/)
    expect(referencesProblem([], 0)).toBeNull()
  })

  it('move stays put at either end', () => {
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3])
    expect(move([1, 2, 3], 2, 1)).toEqual([1, 2, 3])
    expect(move([1, 2, 3], 1, 1)).toEqual([1, 3, 2])
  })
})
