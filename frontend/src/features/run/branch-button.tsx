import { useTranslation } from '@/i18n/react'
import { useState } from 'react'

import { Button, type ButtonProps } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { describeError, type ReadableError } from '@/lib/api-client'

/** Branch from an iteration's prompt, or (null) from the session's working prompt. */
export type BranchFn = (iteration: number | null) => Promise<void>

/** "Use this prompt": opens a new editable prompt step (same goal and settings) from this prompt. */
export function BranchButton({
  iteration,
  onBranch,
  label,
  ...props
}: { iteration: number | null; onBranch: BranchFn; label?: string } & ButtonProps) {
  const { t } = useTranslation()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
  const go = async () => {
    setBusy(true)
    setError(null)
    try {
      await onBranch(iteration)
    } catch (e) {
      setError(describeError(e))
      setBusy(false)
    }
  }
  return (
    <>
      <Button size="sm" {...props} disabled={busy || props.disabled} onClick={() => void go()}>
        {busy ? t('branch.opening') : (label ?? t('branch.use'))}
      </Button>
      {error && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
    </>
  )
}
