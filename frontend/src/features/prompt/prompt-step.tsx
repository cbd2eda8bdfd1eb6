import { useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount } from '@/components/field'
import { PulsingLogo } from '@/components/pulsing-logo'
import { useSubmitHotkey } from '@/hooks/use-submit-hotkey'
import { api, describeError, type ReadableError } from '@/lib/api-client'
import { canEditPrompt } from '@/lib/flow'
import { normalizeLocks } from '@/lib/flex'
import type { Session } from '@/lib/types'

import { FlexEditor } from './flex-editor'

interface Props {
  session: Session
  maxPromptChars: number
  onSession: (session: Session) => void
}

/** Step 2: edit the starting prompt block by block, lock blocks, then generate the first image. */
export default function PromptStep({ session, maxPromptChars, onSession }: Props) {
  const editable = canEditPrompt(session)
  const [text, setText] = useState(session.prompt_text)
  const [locked, setLocked] = useState<string[]>(session.locked_blocks ?? [])
  const [raw, setRaw] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
  const dirty = text !== session.prompt_text

  const generate = async () => {
    if (busy || !editable) return
    setBusy(true)
    setError(null)
    try {
      const saved = await api.savePrompt(session.session_id, text, normalizeLocks(text, locked))
      onSession(saved)
      onSession(await api.generate(session.session_id))
    } catch (e) {
      setError(describeError(e))
    } finally {
      setBusy(false)
    }
  }
  useSubmitHotkey(editable && !busy ? generate : null)

  return (
    <div className="space-y-5">
      <Card className="space-y-4">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <div>
            <h2 className="text-base font-semibold text-zinc-100">Starting prompt</h2>
            <p className="text-sm text-zinc-400">
              Edit any block. Locked blocks are never changed by the optimizer. Text outside the blocks is
              kept exactly.
            </p>
          </div>
          <div className="flex items-center gap-3 text-xs text-zinc-500">
            <CharCount value={text} max={maxPromptChars} />
            <Button size="sm" variant="ghost" aria-pressed={raw} onClick={() => setRaw((r) => !r)}>
              {raw ? 'Show blocks' : 'Raw text'}
            </Button>
          </div>
        </div>
        {!editable && (
          <p className="text-sm text-amber-200/90">
            {session.status === 'running'
              ? 'A run is in progress; the prompt is read-only until it ends.'
              : 'This session has been optimized already; the starting prompt is shown read-only.'}
          </p>
        )}
        <FlexEditor
          text={text}
          onChange={setText}
          locked={locked}
          onLockedChange={setLocked}
          raw={raw}
          readOnly={!editable}
        />
      </Card>
      {session.status === 'failed' && session.error && <ErrorAlert error={describeError(session.error)} />}
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      {editable && (
        <div className="flex flex-wrap items-center justify-end gap-3">
          {busy && <PulsingLogo size="sm" label="Starting…" />}
          {dirty && (
            <Button variant="ghost" onClick={() => setText(session.prompt_text)} disabled={busy}>
              Revert edits
            </Button>
          )}
          <span className="hidden text-xs text-zinc-500 sm:inline">Ctrl/⌘ + Enter</span>
          <Button variant="primary" size="lg" onClick={() => void generate()} disabled={busy}>
            {session.iterations.length ? 'Regenerate image' : 'Generate'}
          </Button>
        </div>
      )}
    </div>
  )
}
