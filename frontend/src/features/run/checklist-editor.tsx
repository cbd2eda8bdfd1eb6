import { useTranslation } from '@/i18n/react'
import { useEffect, useState } from 'react'

import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { useBusyAction } from '@/hooks/use-busy-action'
import { api } from '@/lib/api-client'
import { cn } from '@/lib/cn'
import { CHECKLIST_QUESTION_MAX_CHARS, CHECKLIST_QUESTION_MIN_CHARS } from '@/lib/limits.gen'
import type { ChecklistItem, Session } from '@/lib/types'

const MIN_CHARS = CHECKLIST_QUESTION_MIN_CHARS
const MAX_CHARS = CHECKLIST_QUESTION_MAX_CHARS

interface Props {
  session: Session
  maxItems: number
  onSession: (s: Session) => void
  /** Told whether there are unsaved edits (the run buttons wait for them). */
  onDirtyChange?: (dirty: boolean) => void
}

type Draft = { id?: string; question: string; source: ChecklistItem['source']; reference?: string | null }

const toDraft = (items: ChecklistItem[]): Draft[] => items.map((q) => ({ ...q }))

/**
 * The yes/no questions every image is judged against. Editable while no run is going; the server
 * writes it again when the feedback changes (the editor then shows the new version).
 */
export function ChecklistEditor(props: Props) {
  // A new checklist version from the server starts a fresh edit.
  return <Editor key={`${props.session.session_id}:${props.session.checklist_version ?? 0}`} {...props} />
}

function Editor({ session, maxItems, onSession, onDirtyChange }: Props) {
  const { t } = useTranslation()
  const saved = session.checklist ?? []
  const [items, setItems] = useState<Draft[]>(() => toDraft(saved))
  const [adding, setAdding] = useState('')
  const { busy, error, clearError, act } = useBusyAction()
  const running = session.status === 'running'
  const dirty = JSON.stringify(items) !== JSON.stringify(toDraft(saved))
  useEffect(() => {
    onDirtyChange?.(dirty)
  }, [dirty, onDirtyChange])
  useEffect(() => () => onDirtyChange?.(false), [onDirtyChange])
  const tooShort = items.findIndex((q) => q.question.trim().length < MIN_CHARS)
  const full = items.length >= maxItems
  const addProblem =
    adding.trim().length === 0
      ? null
      : adding.trim().length < MIN_CHARS
        ? t('checklistEditor.atLeast', { count: MIN_CHARS })
        : full
          ? t('checklistEditor.atMost', { count: maxItems })
          : null
  const problem =
    tooShort !== -1
      ? t('checklistEditor.tooShort', { n: tooShort + 1 })
      : items.length === 0
        ? t('checklistEditor.keepOne')
        : null

  const save = () =>
    act(async () => {
      onSession(
        await api.saveChecklist(
          session.session_id,
          items.map((q) => ({
            ...(q.id ? { id: q.id } : {}),
            question: q.question.trim(),
            source: q.source,
            // An item tied to a reference image keeps its tie (issue 19).
            ...(q.reference ? { reference: q.reference } : {}),
          })),
        ),
      )
    })
  const add = () => {
    if (addProblem || !adding.trim()) return
    setItems((xs) => [...xs, { question: adding.trim(), source: 'goal' }])
    setAdding('')
  }

  return (
    <div className="space-y-3" data-testid="checklist-editor">
      <div>
        <h3 className="text-sm font-medium text-zinc-100">{t('checklistEditor.title')}</h3>
        <p className="text-xs text-zinc-400">
          {t('checklistEditor.intro')}
          {running ? t('checklistEditor.running') : t('checklistEditor.editable')}
        </p>
      </div>
      <ol className="space-y-2">
        {items.map((q, i) => (
          <li key={q.id ?? `new-${i}`} className="flex items-start gap-2">
            <span className="w-7 shrink-0 pt-3 text-right font-mono text-xs text-zinc-400 sm:pt-2">
              {q.id ?? t('checklistEditor.new')}
            </span>
            {/* A question is one line of meaning that may wrap: the box grows with it (no cut-off words). */}
            <textarea
              aria-label={t('checklistEditor.question', { n: i + 1 })}
              value={q.question}
              maxLength={MAX_CHARS}
              rows={1}
              disabled={running || busy}
              onKeyDown={(e) => e.key === 'Enter' && e.preventDefault()}
              onChange={(e) =>
                setItems((xs) =>
                  xs.map((x, j) => (j === i ? { ...x, question: e.target.value.replace(/\n/g, ' ') } : x)),
                )
              }
              className={cn(
                'field-sizing-content min-h-11 min-w-0 flex-1 resize-none rounded-lg border bg-zinc-950/80 px-3 py-2.5 text-sm leading-snug text-zinc-100 focus:border-violet-400 focus:outline-none disabled:opacity-60 sm:min-h-9 sm:py-1.5',
                q.question.trim().length < MIN_CHARS ? 'border-rose-700' : 'border-zinc-700',
              )}
            />
            {q.source === 'feedback' && (
              <span className="hidden rounded bg-sky-950 px-1.5 py-0.5 text-[11px] text-sky-200 sm:inline">
                {t('checklistEditor.feedback')}
              </span>
            )}
            <Button
              size="sm"
              variant="ghost"
              aria-label={t('checklistEditor.delete', { n: i + 1 })}
              disabled={running || busy}
              onClick={() => setItems((xs) => xs.filter((_, j) => j !== i))}
            >
              ✕
            </Button>
          </li>
        ))}
      </ol>
      <div className="flex items-center gap-2">
        <input
          aria-label={t('checklistEditor.newQuestion')}
          placeholder={
            full ? t('checklistEditor.atMostShort', { count: maxItems }) : t('checklistEditor.addPlaceholder')
          }
          value={adding}
          maxLength={MAX_CHARS}
          disabled={running || busy || full}
          onChange={(e) => setAdding(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault()
              add()
            }
          }}
          className="h-11 min-w-0 flex-1 rounded-lg border border-zinc-700 bg-zinc-950/80 px-3 text-sm text-zinc-100 placeholder:text-zinc-400 focus:border-violet-400 focus:outline-none disabled:opacity-60 sm:h-9"
        />
        <Button size="sm" onClick={add} disabled={running || busy || !!addProblem || !adding.trim()}>
          {t('checklistEditor.add')}
        </Button>
      </div>
      {(addProblem || problem) && <p className="text-xs text-rose-300">{addProblem ?? problem}</p>}
      <ErrorAlert error={error} onDismiss={clearError} />
      {dirty && (
        <div className="flex flex-wrap items-center justify-end gap-2">
          <span className="text-xs text-amber-200">{t('checklistEditor.unsaved')}</span>
          <Button size="sm" variant="ghost" disabled={busy} onClick={() => setItems(toDraft(saved))}>
            {t('checklistEditor.revert')}
          </Button>
          <Button
            size="sm"
            variant="primary"
            disabled={busy || running || !!problem}
            onClick={() => void save()}
          >
            {t('checklistEditor.save')}
          </Button>
        </div>
      )}
    </div>
  )
}
