import { useState } from 'react'

import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { FieldLabel, TextArea } from '@/components/field'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import type { Session } from '@/lib/types'

/** After a run: more feedback and another round of iterations, starting from the best so far. */
interface Props {
  session: Session
  maxIterations: number
  onSession: (s: Session) => void
}

export function KeepImproving({ session, maxIterations, onSession }: Props) {
  const [open, setOpen] = useState(false)
  const [feedback, setFeedback] = useState('')
  const [count, setCount] = useState(Math.min(maxIterations, Math.max(1, session.iterations_count)))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)

  const run = async () => {
    setBusy(true)
    setError(null)
    try {
      if (feedback.trim()) onSession(await api.feedback(session.session_id, feedback.trim(), false))
      onSession(await api.optimize(session.session_id, count))
    } catch (e) {
      setError(describeError(e))
    } finally {
      setBusy(false)
    }
  }

  if (!open) {
    return (
      <div className="flex justify-start">
        <Button variant="ghost" onClick={() => setOpen(true)}>
          Keep improving…
        </Button>
      </div>
    )
  }
  return (
    <div className="space-y-3 rounded-2xl border border-zinc-800 p-4">
      <FieldLabel htmlFor="more-feedback">What should the next round change? (optional)</FieldLabel>
      <TextArea id="more-feedback" rows={2} value={feedback} onChange={(e) => setFeedback(e.target.value)} />
      <div className="flex flex-wrap items-center gap-3">
        <label htmlFor="more-count" className="text-sm text-zinc-300">
          More iterations
        </label>
        <input
          id="more-count"
          type="number"
          min={1}
          max={maxIterations}
          value={count}
          onChange={(e) => setCount(Math.min(maxIterations, Math.max(1, Number(e.target.value) || 1)))}
          className="h-9 w-20 rounded-lg border border-zinc-700 bg-zinc-950 px-2 text-sm"
        />
        <Button variant="primary" onClick={() => void run()} disabled={busy}>
          Run {count} more
        </Button>
        <Button variant="ghost" onClick={() => setOpen(false)} disabled={busy}>
          Close
        </Button>
      </div>
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
    </div>
  )
}
