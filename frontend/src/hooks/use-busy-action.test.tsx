import { act, renderHook } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/lib/api-client'

import { useBusyAction } from './use-busy-action'

describe('useBusyAction', () => {
  it('is busy while the work runs and not after', async () => {
    const { result } = renderHook(() => useBusyAction())
    let finish = () => {}
    let done: Promise<void> = Promise.resolve()
    act(() => {
      done = result.current.act(() => new Promise<void>((resolve) => (finish = resolve)))
    })
    expect(result.current.busy).toBe(true)
    await act(async () => {
      finish()
      await done
    })
    expect(result.current.busy).toBe(false)
    expect(result.current.error).toBeNull()
  })

  it('keeps a failure as a readable error until dismissed or the next try', async () => {
    const { result } = renderHook(() => useBusyAction())
    await act(() =>
      result.current.act(async () => {
        throw new ApiError(409, 'conflict', 'Not now')
      }),
    )
    expect(result.current.busy).toBe(false)
    expect(result.current.error).toMatchObject({ code: 'conflict' })
    act(() => result.current.clearError())
    expect(result.current.error).toBeNull()
    await act(() =>
      result.current.act(async () => {
        throw new Error('boom')
      }),
    )
    expect(result.current.error?.code).toBe('unknown')
    await act(() => result.current.act(async () => {}))
    expect(result.current.error).toBeNull()
  })
})
