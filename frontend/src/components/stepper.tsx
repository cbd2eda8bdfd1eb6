import { useTranslation } from '@/i18n/react'
import { STAGE_LABELS, STAGES, type Stage, stageIndex } from '@/lib/flow'
import { cn } from '@/lib/cn'

interface Props {
  /** The furthest step the session has reached. */
  reached: Stage
  /** The step on screen (null: none, e.g. on the history page). */
  active: Stage | null
  onSelect: (stage: Stage) => void
}

/** The four steps, always visible; steps already reached can be revisited. */
export function Stepper({ reached, active, onSelect }: Props) {
  const { t } = useTranslation()
  const reachedAt = stageIndex(reached)
  return (
    <nav aria-label={t('stepper.label')}>
      <ol className="grid grid-cols-4 gap-1 sm:gap-2">
        {STAGES.map((stage, i) => {
          const enabled = i <= reachedAt
          const isActive = stage === active
          return (
            <li key={stage}>
              <button
                type="button"
                disabled={!enabled}
                onClick={() => onSelect(stage)}
                aria-current={isActive ? 'step' : undefined}
                className={cn(
                  'group flex min-h-11 w-full flex-col items-start gap-1 rounded-lg border-t-2 px-1 pt-2 text-left transition-colors sm:px-2',
                  isActive ? 'border-violet-400' : i < reachedAt ? 'border-violet-800' : 'border-zinc-800',
                  enabled ? 'cursor-pointer hover:bg-zinc-900' : 'cursor-default',
                )}
              >
                <span
                  className={cn(
                    'text-[11px] font-semibold tracking-wider uppercase',
                    isActive ? 'text-violet-300' : 'text-zinc-400',
                  )}
                >
                  {t('stepper.step', { n: i + 1 })}
                </span>
                <span
                  className={cn(
                    'text-xs leading-tight sm:text-sm',
                    isActive ? 'text-white' : enabled ? 'text-zinc-300' : 'text-zinc-500',
                  )}
                >
                  {STAGE_LABELS[stage]}
                </span>
              </button>
            </li>
          )
        })}
      </ol>
    </nav>
  )
}
