import { useState } from 'react'

import { describeError, type ReadableError } from '@/lib/api-client'

/**
 * One action at a time against the server: `act(work)` clears the last error, is `busy` while `work`
 * runs, keeps a failure as a readable `error` (shown by an ErrorAlert, dismissed by `clearError`) and is
 * never left busy.
 */
export function useBusyAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
  const act = async (work: () => Promise<void>) => {
    setBusy(true)
    setError(null)
    try {
      await work()
    } catch (e) {
      setError(describeError(e))
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, clearError: () => setError(null), act }
}
