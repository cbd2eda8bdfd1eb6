import { useTranslation } from '@/i18n/react'
import { useMemo } from 'react'

import { TextArea } from '@/components/field'
import { cn } from '@/lib/cn'
import { blockLabel, blockValue, parseFlex, setBlock, toggleLock } from '@/lib/flex'

interface Props {
  text: string
  onChange: (text: string) => void
  locked: string[]
  onLockedChange: (locked: string[]) => void
  raw: boolean
  readOnly?: boolean
}

function LockIcon({ open }: { open: boolean }) {
  return (
    <svg
      viewBox="0 0 16 16"
      className="size-3.5"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.5}
      aria-hidden
    >
      <rect x="3" y="7" width="10" height="7" rx="1.5" />
      <path d={open ? 'M5.5 7V4.5a2.5 2.5 0 0 1 4.9-.7' : 'M5.5 7V4.5a2.5 2.5 0 0 1 5 0V7'} />
    </svg>
  )
}

/** A block's padlock: `name` is the block, `locked` whether rewrites keep it as written. */
function LockButton(props: { locked: boolean; name: string; onClick: () => void; disabled?: boolean }) {
  const { locked, name, onClick, disabled } = props
  const { t } = useTranslation()
  return (
    <button
      type="button"
      aria-pressed={locked}
      aria-label={t(locked ? 'flex.unlockBlock' : 'flex.lockBlock', { block: blockLabel(name) })}
      title={locked ? t('flex.lockedTitle') : t('flex.lockTitle')}
      onClick={onClick}
      disabled={disabled}
      className={cn(
        'inline-flex min-h-11 items-center gap-1 rounded-md border px-3 py-0.5 text-xs transition-colors disabled:opacity-50 sm:min-h-0 sm:px-2',
        locked
          ? 'border-amber-500/70 bg-amber-500/15 text-amber-200'
          : 'border-zinc-700 text-zinc-400 hover:text-zinc-200',
      )}
    >
      <LockIcon open={!locked} />
      {locked ? t('flex.locked') : t('flex.lock')}
    </button>
  )
}

/**
 * The prompt as one labelled field per FLEX block. Edits replace only a block's body, so the frame
 * (everything outside the blocks) stays byte-identical. Broken markup falls back to the raw text.
 */
export function FlexEditor({ text, onChange, locked, onLockedChange, raw, readOnly }: Props) {
  const { t } = useTranslation()
  const parsed = useMemo(() => parseFlex(text), [text])
  const blocks = parsed.ok ? parsed.segments.filter((s) => s.kind === 'block') : []
  const showRaw = raw || !parsed.ok || blocks.length === 0

  if (showRaw) {
    return (
      <div className="space-y-2">
        {!parsed.ok && (
          <p role="alert" className="text-sm text-amber-200">
            {t('flex.problem', { line: parsed.error.line, message: parsed.error.message })}
          </p>
        )}
        {parsed.ok && blocks.length === 0 && !raw && (
          <p className="text-sm text-zinc-400">{t('flex.noBlocks')}</p>
        )}
        <TextArea
          aria-label={t('flex.raw')}
          value={text}
          readOnly={readOnly}
          onChange={(e) => onChange(e.target.value)}
          rows={Math.min(28, Math.max(10, text.split('\n').length + 1))}
          className="font-mono text-xs leading-relaxed"
          spellCheck={false}
        />
      </div>
    )
  }

  return (
    <div className="space-y-3" data-testid="flex-blocks">
      {parsed.segments.map((seg, i) => {
        if (seg.kind === 'frame') {
          // Frame text outside the markers is kept as is; show it only when it says something.
          const visible = seg.text
            .split('\n')
            .filter((line) => line.trim() && !/FLEX_(BEGIN|END):/.test(line))
            .join('\n')
          return visible ? (
            <pre
              key={`frame-${i}`}
              className="rounded-lg border border-dashed border-zinc-800 px-3 py-2 text-xs whitespace-pre-wrap text-zinc-400"
              title={t('flex.frame')}
            >
              {visible}
            </pre>
          ) : null
        }
        const isLocked = locked.includes(seg.name)
        const value = blockValue(seg.body)
        const id = `flex-${seg.name}`
        return (
          <div
            key={seg.name}
            className={cn(
              'rounded-xl border p-3',
              isLocked ? 'border-amber-600/40 bg-amber-500/5' : 'border-zinc-800 bg-zinc-950/50',
            )}
          >
            <div className="mb-2 flex items-center justify-between gap-2">
              <label htmlFor={id} className="text-sm font-medium text-zinc-200">
                {blockLabel(seg.name)}
                <span className="ml-2 font-mono text-[11px] text-zinc-400">{seg.name}</span>
              </label>
              <LockButton
                name={seg.name}
                locked={isLocked}
                disabled={readOnly}
                onClick={() => onLockedChange(toggleLock(locked, seg.name))}
              />
            </div>
            <TextArea
              id={id}
              value={value}
              readOnly={readOnly}
              rows={Math.min(8, Math.max(2, value.split('\n').length))}
              onChange={(e) => onChange(setBlock(text, seg.name, e.target.value))}
            />
          </div>
        )
      })}
    </div>
  )
}
