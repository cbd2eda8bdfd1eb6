import { useTranslation } from '@/i18n/react'
import { type Dispatch, type SetStateAction, useEffect, useRef, useState } from 'react'

import { Button } from '@/components/button'
import { cn } from '@/lib/cn'
import { MAX_REFERENCE_LABEL_CHARS } from '@/lib/limits.gen'

import { REFERENCE_ROLES, type ReferenceRole } from './reference-api'
import {
  measure,
  move,
  pixelProblem,
  readDataUrl,
  REFERENCE_TYPES,
  sortFiles,
  withLabel,
  withRole,
} from './reference-files'
import { type DraftReference, referenceCap } from './reference-list'

interface Props {
  items: DraftReference[]
  onChange: Dispatch<SetStateAction<DraftReference[]>>
  /** The chosen model's max_input_images (0: it takes none). */
  modelMax: number
  /** The chosen model's name, for "... takes no reference images". */
  modelName: string
  /** Images pasted or dropped before the picker was loaded (see reference-slot.tsx). */
  pending?: File[]
  /** "Add images" was pressed before the picker was loaded: open the file dialog on arrival. */
  openOnLoad?: boolean
}

let nextKey = 0

/** Read the accepted files into references; a file that cannot be decoded becomes a message. */
async function readAll(files: File[]): Promise<{ added: DraftReference[]; problems: string[] }> {
  const added: DraftReference[] = []
  const problems: string[] = []
  for (const file of files) {
    try {
      const size = await measure(file)
      const tooBig = size && pixelProblem(file.name, size.width, size.height)
      if (tooBig) {
        problems.push(tooBig)
        continue
      }
      const image = await readDataUrl(file)
      added.push({ key: `ref-${++nextKey}`, name: file.name, image, role: 'subject', label: '' })
    } catch {
      problems.push(file.name)
    }
  }
  return { added, problems }
}

/**
 * Reference images for the goal form: drop, paste (Ctrl+V) or pick files; each shows as a thumbnail
 * with its role, a short label, move left/right and remove. Up to the chosen model's limit; a model
 * that takes none says so here, before Generate, and adding is off.
 */
export function ReferencePicker({ items, onChange, modelMax, modelName, pending, openOnLoad }: Props) {
  const { t } = useTranslation()
  const input = useRef<HTMLInputElement>(null)
  const [problems, setProblems] = useState<string[]>([])
  const [over, setOver] = useState(false)
  const [focusKey, setFocusKey] = useState<string | null>(null)
  const cap = referenceCap(modelMax)
  const canAdd = cap > 0 && items.length < cap

  const add = async (files: File[]) => {
    if (!files.length) return
    if (cap === 0) {
      setProblems([t('references.modelTakesNone', { model: modelName })])
      return
    }
    const { accepted, problems: refused } = sortFiles(files, items.length, cap)
    const { added, problems: unread } = await readAll(accepted)
    setProblems([...refused, ...unread.map((name) => t('referenceImages.unreadable', { name }))])
    if (added.length) onChange((prev) => [...prev, ...added].slice(0, Math.max(prev.length, cap)))
  }

  // What arrived before the picker did is added once, as if it had been dropped here.
  const [early] = useState(pending ?? [])
  useEffect(() => {
    if (!early.length) return
    const timer = setTimeout(() => void add(early), 0)
    return () => clearTimeout(timer)
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, on mount
  }, [early])

  const [openNow] = useState(openOnLoad ?? false)
  useEffect(() => {
    if (openNow) input.current?.click()
  }, [openNow])

  // Ctrl+V of an image anywhere on the form adds it; pasted text goes where it always went.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'))
      if (!files.length) return
      e.preventDefault()
      void add(files)
    }
    document.addEventListener('paste', onPaste)
    return () => document.removeEventListener('paste', onPaste)
  })

  const moveBy = (index: number, delta: number) => {
    setFocusKey(`${items[index].key}:${delta < 0 ? 'left' : 'right'}`)
    onChange((prev) => move(prev, index, delta))
  }

  return (
    <section aria-labelledby="references-title" className="space-y-3" data-testid="reference-picker">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="references-title" className="text-sm font-medium text-zinc-200">
          {t('references.title')}
        </h2>
        {cap > 0 && (
          <span className="text-xs text-zinc-400">
            {t('referenceImages.count', { n: items.length, max: cap })}
          </span>
        )}
      </div>
      {cap === 0 ? (
        <p className="text-sm text-amber-200/90" data-testid="references-none" id="references-none">
          {t('references.modelTakesNone', { model: modelName })}
        </p>
      ) : (
        <div className="space-y-1 text-xs text-zinc-400" id="references-help">
          <p>{t('references.help', { max: cap })}</p>
          <p>
            {REFERENCE_ROLES.map((role, i) => (
              <span key={role}>
                {i > 0 && ' · '}
                <span className="text-violet-200">{t(`referenceImages.role.${role}`)}</span>
                {' — '}
                {t(`referenceImages.roleHint.${role}`)}
              </span>
            ))}
          </p>
        </div>
      )}
      <div
        onDragOver={(e) => {
          if (!canAdd) return
          e.preventDefault()
          setOver(true)
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault()
          setOver(false)
          void add(Array.from(e.dataTransfer.files))
        }}
        data-testid="reference-drop"
        className={cn(
          'flex flex-wrap items-center gap-3 rounded-xl border border-dashed p-3',
          over ? 'border-violet-400 bg-violet-500/10' : 'border-zinc-700',
          cap === 0 && 'opacity-60',
        )}
      >
        <Button
          size="sm"
          onClick={() => input.current?.click()}
          disabled={!canAdd}
          aria-describedby={cap === 0 ? 'references-none' : 'references-help'}
        >
          {t('references.add')}
        </Button>
        <span className="text-xs text-zinc-400">{t('references.dropHint')}</span>
        <input
          ref={input}
          type="file"
          hidden
          multiple
          accept={REFERENCE_TYPES.join(',')}
          data-testid="reference-file"
          onChange={(e) => {
            void add(Array.from(e.target.files ?? []))
            e.target.value = ''
          }}
        />
      </div>
      {problems.length > 0 && (
        <ul role="alert" className="space-y-1 text-sm text-rose-300" data-testid="reference-problems">
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
      {items.length > 0 && (
        <ol className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label={t('referenceImages.listLabel')}>
          {items.map((r, i) => (
            <ReferenceCard
              key={r.key}
              item={r}
              n={i + 1}
              first={i === 0}
              last={i === items.length - 1}
              focusKey={focusKey}
              onFocused={() => setFocusKey(null)}
              onRole={(role) => onChange((prev) => withRole(prev, r.key, role))}
              onLabel={(label) => onChange((prev) => withLabel(prev, r.key, label))}
              onMove={(delta) => moveBy(i, delta)}
              onRemove={() => onChange((prev) => prev.filter((x) => x.key !== r.key))}
            />
          ))}
        </ol>
      )}
    </section>
  )
}

interface CardProps {
  item: DraftReference
  n: number
  first: boolean
  last: boolean
  focusKey: string | null
  onFocused: () => void
  onRole: (role: ReferenceRole) => void
  onLabel: (label: string) => void
  onMove: (delta: number) => void
  onRemove: () => void
}

/** One reference: the thumbnail, its role and label, and the buttons that move or remove it. */
function ReferenceCard({
  item,
  n,
  first,
  last,
  focusKey,
  onFocused,
  onRole,
  onLabel,
  onMove,
  onRemove,
}: CardProps) {
  const { t } = useTranslation()
  const leftId = `${item.key}-left`
  const rightId = `${item.key}-right`
  // After a move the focus stays on the button pressed (or its twin, at the end of the row).
  useEffect(() => {
    const focus = (id: string) => {
      document.getElementById(id)?.focus()
      onFocused()
    }
    if (focusKey === `${item.key}:left`) focus(first ? rightId : leftId)
    if (focusKey === `${item.key}:right`) focus(last ? leftId : rightId)
  }, [focusKey, item.key, first, last, leftId, rightId, onFocused])
  return (
    <li className="flex gap-3 rounded-xl border border-zinc-800 bg-zinc-950/60 p-2" data-reference={n}>
      <img
        src={item.image}
        alt={t('referenceImages.thumbAlt', { n, name: item.name })}
        className="size-20 shrink-0 rounded-lg border border-zinc-800 bg-zinc-900 object-cover"
      />
      <div className="min-w-0 flex-1 space-y-2">
        <div className="flex items-center gap-2">
          <span className="text-xs font-medium text-zinc-300">{t('referenceImages.number', { n })}</span>
          <select
            aria-label={t('referenceImages.roleOf', { n })}
            value={item.role}
            onChange={(e) => onRole(e.target.value as ReferenceRole)}
            className="h-8 rounded-full border border-violet-400/60 bg-violet-500/15 px-2 text-xs text-violet-100 focus-visible:outline-2 focus-visible:outline-violet-400"
          >
            {REFERENCE_ROLES.map((role) => (
              <option key={role} value={role}>
                {t(`referenceImages.role.${role}`)}
              </option>
            ))}
          </select>
        </div>
        <input
          aria-label={t('referenceImages.labelOf', { n })}
          value={item.label}
          maxLength={MAX_REFERENCE_LABEL_CHARS}
          onChange={(e) => onLabel(e.target.value)}
          placeholder={t('referenceImages.labelPlaceholder')}
          className="h-9 w-full rounded-lg border border-zinc-700 bg-zinc-950 px-2 text-sm text-zinc-100 placeholder:text-zinc-500 focus:border-violet-400 focus:outline-none focus-visible:outline-2 focus-visible:outline-violet-400"
        />
        <div className="flex flex-wrap gap-1">
          <Button
            id={leftId}
            size="sm"
            variant="ghost"
            disabled={first}
            onClick={() => onMove(-1)}
            aria-label={t('referenceImages.moveLeft', { n })}
          >
            ‹
          </Button>
          <Button
            id={rightId}
            size="sm"
            variant="ghost"
            disabled={last}
            onClick={() => onMove(1)}
            aria-label={t('referenceImages.moveRight', { n })}
          >
            ›
          </Button>
          <Button
            size="sm"
            variant="ghost"
            onClick={onRemove}
            aria-label={t('referenceImages.removeOf', { n })}
          >
            {t('referenceImages.remove')}
          </Button>
        </div>
      </div>
    </li>
  )
}
