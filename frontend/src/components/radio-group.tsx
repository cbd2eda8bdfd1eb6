import { cn } from '@/lib/cn'

import { rovingKeyDown } from './roving'

interface Option<T> {
  value: T
  label: string
  disabled?: boolean
}

/** A labelled segmented radio group: one tab stop, arrow keys move the choice. */
export function RadioGroup<T extends string | number>({
  label,
  value,
  options,
  onChange,
  disabled,
  id,
}: {
  label: string
  value: T
  options: Option<T>[]
  onChange: (value: T) => void
  disabled?: boolean
  id?: string
}) {
  return (
    <div role="radiogroup" aria-label={label} id={id} className="inline-flex flex-wrap gap-1">
      {options.map((o) => {
        const selected = o.value === value
        return (
          <button
            key={String(o.value)}
            type="button"
            role="radio"
            aria-checked={selected}
            tabIndex={selected ? 0 : -1}
            disabled={disabled || o.disabled}
            onClick={() => onChange(o.value)}
            onKeyDown={rovingKeyDown}
            className={cn(
              'min-h-11 min-w-11 rounded-lg border px-3 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-violet-400 disabled:opacity-50 sm:min-h-9',
              selected
                ? 'border-violet-400 bg-violet-500/20 text-violet-100'
                : 'border-zinc-700 text-zinc-300 hover:border-zinc-500 hover:text-white',
            )}
          >
            {o.label}
          </button>
        )
      })}
    </div>
  )
}
