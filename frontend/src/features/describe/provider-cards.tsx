import { Trans, useTranslation } from '@/i18n/react'
import { cn } from '@/lib/cn'
import { providerAbout, providerLabel } from '@/lib/provider-text'
import type { ProviderInfo } from '@/lib/types'

interface Props {
  providers: ProviderInfo[]
  selected: string
  onSelect: (name: string) => void
}

function Status({ p }: { p: ProviderInfo }) {
  const { t } = useTranslation()
  if (p.is_demo) {
    return (
      <span className="shrink-0 rounded-full bg-amber-500/15 px-2 py-0.5 text-xs font-medium whitespace-nowrap text-amber-200">
        {t('providers.demo')}
      </span>
    )
  }
  if (p.available) {
    return (
      <span className="shrink-0 rounded-full bg-emerald-500/15 px-2 py-0.5 text-xs font-medium whitespace-nowrap text-emerald-200">
        {t('providers.ready')}
      </span>
    )
  }
  return (
    <span className="shrink-0 rounded-full bg-zinc-700/50 px-2 py-0.5 text-xs font-medium whitespace-nowrap text-zinc-300">
      {t('providers.needsKey')}
    </span>
  )
}

/** Provider choice: which are ready, which need which key, and which is the offline demo. */
export function ProviderCards({ providers, selected, onSelect }: Props) {
  const { t } = useTranslation()
  return (
    <div
      role="radiogroup"
      aria-label={t('describe.provider')}
      className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
    >
      {providers.map((p) => {
        const isSelected = p.name === selected
        return (
          <button
            key={p.name}
            type="button"
            role="radio"
            aria-checked={isSelected}
            data-provider={p.name}
            onClick={() => onSelect(p.name)}
            className={cn(
              'flex flex-col gap-2 rounded-xl border p-3 text-left transition-colors focus-visible:outline-2 focus-visible:outline-violet-400',
              isSelected
                ? 'border-violet-400 bg-violet-500/10'
                : 'border-zinc-800 bg-zinc-950/60 hover:border-zinc-600',
              !p.available && !isSelected && 'opacity-75',
            )}
          >
            <div className="flex items-center justify-between gap-2">
              <span className="font-medium text-zinc-100">{providerLabel(p)}</span>
              <Status p={p} />
            </div>
            {providerAbout(p) && <span className="text-xs text-zinc-400">{providerAbout(p)}</span>}
            {p.is_demo && <span className="text-xs text-amber-200/80">{t('providers.demoHint')}</span>}
            {!p.available && p.missing_key && (
              <span className="text-xs text-zinc-400">
                <Trans
                  i18nKey="providers.setKey"
                  values={{ key: p.missing_key }}
                  components={{ code: <code className="rounded bg-zinc-800 px-1 text-zinc-200" /> }}
                />
              </span>
            )}
          </button>
        )
      })}
    </div>
  )
}
