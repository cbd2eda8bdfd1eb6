import { useTranslation } from '@/i18n/react'
import type { ReactNode, TextareaHTMLAttributes } from 'react'

import { cn } from '@/lib/cn'

export function FieldLabel({
  children,
  htmlFor,
  hint,
}: {
  children: ReactNode
  htmlFor?: string
  hint?: ReactNode
}) {
  return (
    <div className="mb-2 flex items-baseline justify-between gap-2">
      <label htmlFor={htmlFor} className="text-sm font-medium text-zinc-200">
        {children}
      </label>
      {hint && <span className="text-xs text-zinc-400">{hint}</span>}
    </div>
  )
}

const TEXT_AREA =
  'w-full rounded-xl border border-zinc-700 bg-zinc-950/80 px-3 py-2 text-sm text-zinc-100 placeholder:text-zinc-400 focus:border-violet-400 focus:ring-1 focus:ring-violet-400 focus:outline-none disabled:opacity-60'

export function TextArea({ className, ...props }: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea className={cn(TEXT_AREA, className)} {...props} />
}

/** A text area under its label, the label's hint (a count, "optional") at the right. */
export function TextAreaField({
  label,
  hint,
  ...props
}: TextareaHTMLAttributes<HTMLTextAreaElement> & { id: string; label: ReactNode; hint?: ReactNode }) {
  return (
    <>
      <FieldLabel htmlFor={props.id} hint={hint}>
        {label}
      </FieldLabel>
      <TextArea {...props} />
    </>
  )
}

export function CharCount({ value, max }: { value: string; max: number }) {
  const { t } = useTranslation()
  const over = value.length > max
  return (
    <span className={cn('tabular-nums', over && 'font-medium text-rose-300')}>
      {value.length}/{max}
      {over && t('field.tooLong')}
    </span>
  )
}

/** A labelled 1..max slider for the number of improvement iterations. */
export function IterationsSlider({
  id,
  label,
  min = 1,
  max,
  value,
  onChange,
}: {
  id: string
  label: string
  min?: number
  max: number
  value: number
  onChange: (value: number) => void
}) {
  return (
    <div>
      <FieldLabel htmlFor={id} hint={`${min}–${max}`}>
        {label}
      </FieldLabel>
      <div className="flex items-center gap-3">
        <input
          id={id}
          type="range"
          min={min}
          max={max}
          value={value}
          onChange={(e) => onChange(Number(e.target.value))}
          className="w-full max-w-xs accent-violet-400"
        />
        <span className="w-8 font-mono text-sm text-zinc-200 tabular-nums" data-testid={`${id}-value`}>
          {value}
        </span>
      </div>
    </div>
  )
}
