import { describe, expect, it } from 'vitest'

import { changeNote } from './server-notes'

describe('changeNote', () => {
  it("hides the server's English record notes and keeps the reviser's summary", () => {
    expect(changeNote('edit of iteration 3')).toBe('')
    expect(changeNote('baseline')).toBe('')
    expect(changeNote('revision failed')).toBe('')
    expect(changeNote('Сделал свет теплее, убрал лишний текст')).toBe(
      'Сделал свет теплее, убрал лишний текст',
    )
  })
})
