import { useEffect, useState } from 'react'

import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { api, describeError, type ReadableError } from '@/lib/api-client'
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

type Draft = { id?: string; question: string; source: ChecklistItem['source'] }

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
  const saved = session.checklist ?? []
  const [items, setItems] = useState<Draft[]>(() => toDraft(saved))
  const [adding, setAdding] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
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
        ? `At least ${MIN_CHARS} characters.`
        : full
          ? `At most ${maxItems} questions.`
          : null
  const problem =
    tooShort !== -1
      ? `Question ${tooShort + 1} is empty or too short: write it out or delete it.`
      : items.length === 0
        ? 'Keep at least one question.'
        : null

  const save = async () => {
    setBusy(true)
    setError(null)
    try {
      onSession(
        await api.saveChecklist(
          session.session_id,
          items.map((q) => ({
            ...(q.id ? { id: q.id } : {}),
            question: q.question.trim(),
            source: q.source,
          })),
        ),
      )
    } catch (e) {
      setError(describeError(e))
    } finally {
      setBusy(false)
    }
  }
  const add = () => {
    if (addProblem || !adding.trim()) return
    setItems((xs) => [...xs, { question: adding.trim(), source: 'goal' }])
    setAdding('')
  }

  return (
    <div className="space-y-3" data-testid="checklist-editor">
      <div>
        <h3 className="text-sm font-medium text-zinc-100">Checklist the judge uses</h3>
        <p className="text-xs text-zinc-400">
          Every image is answered yes / no / unsure on these questions.
          {running
            ? ' A run is going: the checklist can be changed when it ends.'
            : ' Edit, delete or add questions; changing the feedback writes it again.'}
        </p>
      </div>
      <ol className="space-y-2">
        {items.map((q, i) => (
          <li key={q.id ?? `new-${i}`} className="flex items-center gap-2">
            <span className="w-7 shrink-0 text-right font-mono text-xs text-zinc-400">{q.id ?? 'new'}</span>
            <input
              aria-label={`Checklist question ${i + 1}`}
              value={q.question}
              maxLength={MAX_CHARS}
              disabled={running || busy}
              onChange={(e) =>
                setItems((xs) => xs.map((x, j) => (j === i ? { ...x, question: e.target.value } : x)))
              }
              className={cn(
                'h-11 min-w-0 flex-1 rounded-lg border bg-zinc-950/80 px-3 text-sm text-zinc-100 focus:border-violet-400 focus:outline-none disabled:opacity-60 sm:h-9',
                q.question.trim().length < MIN_CHARS ? 'border-rose-700' : 'border-zinc-700',
              )}
            />
            {q.source === 'feedback' && (
              <span className="hidden rounded bg-sky-950 px-1.5 py-0.5 text-[11px] text-sky-200 sm:inline">
                feedback
              </span>
            )}
            <Button
              size="sm"
              variant="ghost"
              aria-label={`Delete question ${i + 1}`}
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
          aria-label="New checklist question"
          placeholder={full ? `At most ${maxItems} questions` : 'Add a yes/no question…'}
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
          Add
        </Button>
      </div>
      {(addProblem || problem) && <p className="text-xs text-rose-300">{addProblem ?? problem}</p>}
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      {dirty && (
        <div className="flex flex-wrap items-center justify-end gap-2">
          <span className="text-xs text-amber-200">Unsaved checklist changes</span>
          <Button size="sm" variant="ghost" disabled={busy} onClick={() => setItems(toDraft(saved))}>
            Revert
          </Button>
          <Button
            size="sm"
            variant="primary"
            disabled={busy || running || !!problem}
            onClick={() => void save()}
          >
            Save checklist
          </Button>
        </div>
      )}
    </div>
  )
}
