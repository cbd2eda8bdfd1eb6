import { useTranslation } from '@/i18n/react'

import type { Reference } from './reference-api'

/** The session's reference images, small and labelled with their role and label, in order. */
export function ReferenceStrip({ references }: { references: Reference[] }) {
  const { t } = useTranslation()
  if (!references.length) return null
  return (
    <section aria-labelledby="shown-references" data-testid="reference-strip" className="space-y-2">
      <h2 id="shown-references" className="text-sm font-medium text-zinc-100">
        {t('referenceImages.shownTitle')}
      </h2>
      <ol className="flex flex-wrap gap-2" aria-label={t('referenceImages.shownLabel')}>
        {references.map((r, i) => {
          const role = t(`referenceImages.role.${r.role}`)
          return (
            <li key={r.id} className="w-16 space-y-1" data-reference={r.id}>
              <img
                src={r.url}
                alt={t('referenceImages.thumbAlt', { n: i + 1, name: r.label || role })}
                width={64}
                height={64}
                loading="lazy"
                className="size-16 rounded-lg border border-zinc-800 bg-zinc-950 object-cover"
              />
              <p className="truncate text-[11px] leading-tight text-zinc-300" title={r.label || undefined}>
                <span className="font-medium text-violet-200">{role}</span>
                {r.label && <span className="block truncate text-zinc-400">{r.label}</span>}
              </p>
            </li>
          )
        })}
      </ol>
    </section>
  )
}
