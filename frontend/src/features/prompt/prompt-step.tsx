import { useTranslation } from '@/i18n/react'
import { useEffect, useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount } from '@/components/field'
import { PulsingLogo } from '@/components/pulsing-logo'
import { useSubmitHotkey } from '@/hooks/use-submit-hotkey'
import { useBusyAction } from '@/hooks/use-busy-action'
import { api, describeError } from '@/lib/api-client'
import { clearDraft, draftKeys, loadDraft, saveDraft } from '@/lib/drafts'
import { canEditPrompt, hasOptimized } from '@/lib/flow'
import { normalizeLocks } from '@/lib/flex'
import { routeHash } from '@/lib/route'
import type { Session } from '@/lib/types'

import { BranchButton, type BranchFn } from '@/features/run/branch-button'

import { FlexEditor } from './flex-editor'

/** Unsaved edits of a session's prompt, kept while they still apply to the saved prompt. */
interface PromptDraft {
  base: string
  text: string
  locked: string[]
}

interface Props {
  session: Session
  maxPromptChars: number
  onSession: (session: Session) => void
  onBranch: BranchFn
}

/** Step 2: edit the starting prompt block by block, lock blocks, then generate the first image. */
export default function PromptStep({ session, maxPromptChars, onSession, onBranch }: Props) {
  const { t } = useTranslation()
  const editable = canEditPrompt(session)
  const key = draftKeys.prompt(session.session_id)
  const [draft] = useState(() => {
    const d = loadDraft<PromptDraft>(key)
    return d && d.base === session.prompt_text && editable ? d : null
  })
  const [text, setText] = useState(draft?.text ?? session.prompt_text)
  const [locked, setLocked] = useState<string[]>(draft?.locked ?? session.locked_blocks ?? [])
  // Unsaved edits and locks survive reloads and leaving the step.
  const lockedChanged = normalizeLocks(text, locked).join() !== (session.locked_blocks ?? []).join()
  useEffect(() => {
    if (!editable) return
    if (text !== session.prompt_text || lockedChanged) {
      saveDraft(key, { base: session.prompt_text, text, locked } satisfies PromptDraft)
    } else clearDraft(key)
  }, [editable, key, text, locked, lockedChanged, session.prompt_text])
  const tooLong = text.length > maxPromptChars
  const [raw, setRaw] = useState(false)
  const { busy, error, clearError, act } = useBusyAction()
  const dirty = text !== session.prompt_text

  const generate = async () => {
    if (busy || !editable || tooLong) return
    await act(async () => {
      const saved = await api.savePrompt(session.session_id, text, normalizeLocks(text, locked))
      onSession(saved)
      clearDraft(key)
      onSession(await api.generate(session.session_id))
    })
  }
  useSubmitHotkey(editable && !busy && !tooLong ? generate : null)

  return (
    <div className="space-y-5">
      <Card className="space-y-4">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <div>
            <h2 className="text-base font-semibold text-zinc-100">{t('prompt.title')}</h2>
            <p className="text-sm text-zinc-300">{t('prompt.intro')}</p>
          </div>
          <div className="flex items-center gap-3 text-xs text-zinc-300">
            <CharCount value={text} max={maxPromptChars} />
            <Button size="sm" variant="ghost" aria-pressed={raw} onClick={() => setRaw((r) => !r)}>
              {raw ? t('prompt.showBlocks') : t('prompt.rawText')}
            </Button>
          </div>
        </div>
        {!editable && (
          <div className="flex flex-wrap items-center justify-between gap-3" data-testid="read-only-note">
            <p className="text-sm text-amber-100">
              {session.status === 'running' ? t('prompt.readOnlyRunning') : t('prompt.readOnlyDone')}
            </p>
            {hasOptimized(session) && session.status !== 'running' && (
              <BranchButton iteration={null} onBranch={onBranch} variant="primary" />
            )}
          </div>
        )}
        {session.branched_from && (
          <p className="text-sm text-zinc-300" data-testid="branched-from">
            {t('prompt.startedFrom')}{' '}
            <a
              className="text-violet-300 underline underline-offset-2 hover:text-violet-200"
              href={routeHash({ name: 'session', id: session.branched_from.session_id, stage: 'result' })}
            >
              {session.branched_from.iteration == null
                ? t('prompt.earlierSession')
                : t('prompt.earlierIteration', { n: session.branched_from.iteration })}
            </a>
            {t('prompt.withItsGoal')}
          </p>
        )}
        {editable && draft && (
          <p className="text-sm text-sky-200" data-testid="draft-restored">
            {t('prompt.restored')}
          </p>
        )}
        <FlexEditor
          readOnly={!editable}
          text={text}
          onChange={setText}
          locked={locked}
          onLockedChange={setLocked}
          raw={raw}
        />
      </Card>
      {session.status === 'failed' && session.error && <ErrorAlert error={describeError(session.error)} />}
      <ErrorAlert error={error} onDismiss={clearError} />
      {editable && (
        <div className="flex flex-wrap items-center justify-end gap-3">
          {busy && <PulsingLogo size="sm" label={t('prompt.starting')} />}
          {tooLong && (
            <p className="mr-auto text-sm text-rose-300">
              {t('prompt.over', { count: text.length - maxPromptChars, max: maxPromptChars })}
            </p>
          )}
          {(dirty || lockedChanged) && (
            <Button
              variant="ghost"
              onClick={() => {
                setText(session.prompt_text)
                setLocked(session.locked_blocks ?? [])
              }}
              disabled={busy}
            >
              {t('prompt.revert')}
            </Button>
          )}
          <span className="hidden text-xs text-zinc-400 sm:inline">{t('common.hotkey')}</span>
          <Button variant="primary" size="lg" onClick={() => void generate()} disabled={busy || tooLong}>
            {session.iterations.length ? t('prompt.regenerate') : t('prompt.generate')}
          </Button>
        </div>
      )}
    </div>
  )
}
