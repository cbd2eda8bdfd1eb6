import { withStrings } from '@/i18n'
import { useTranslation } from '@/i18n/react'
import { type ComponentProps, lazy, Suspense, useEffect, useState } from 'react'

import { Button } from '@/components/button'

import { referenceCap } from './reference-list'
import type { ReferencePicker as Picker } from './reference-picker'

// The picker's strings are in the catalogue's second part, which arrives with it.
const ReferencePicker = lazy(() =>
  withStrings(import('./reference-picker')).then((m) => ({ default: m.ReferencePicker })),
)

type Props = Omit<ComponentProps<typeof Picker>, 'pending' | 'openOnLoad'>

// What makes the picker worth loading: any sign of a person at work on the form.
const INTENT = ['pointerdown', 'keydown', 'dragenter', 'paste'] as const

/**
 * The goal form's reference images, loaded when the person starts working on the form (the first
 * screen stays within its script budget). Until then a light stand-in shows the same heading and
 * button, and keeps an image pasted or dropped before the picker arrived.
 */
export function ReferenceSlot(props: Props) {
  const [wanted, setWanted] = useState(props.items.length > 0)
  const [pending, setPending] = useState<File[]>([])

  useEffect(() => {
    if (wanted) return
    const want = (e: Event) => {
      const files = Array.from((e as Partial<ClipboardEvent>).clipboardData?.files ?? [])
      const images = files.filter((f) => f.type.startsWith('image/'))
      if (images.length) {
        e.preventDefault()
        setPending(images)
      }
      setWanted(true)
    }
    for (const name of INTENT) document.addEventListener(name, want, { capture: true })
    return () => {
      for (const name of INTENT) document.removeEventListener(name, want, { capture: true })
    }
  }, [wanted])

  // "Add images" pressed on the stand-in opens the file dialog as soon as the picker is here.
  const [openOnLoad, setOpenOnLoad] = useState(false)
  const standIn = (
    <StandIn
      {...props}
      onDropFiles={(files) => (setPending(files), setWanted(true))}
      onAdd={() => (setOpenOnLoad(true), setWanted(true))}
    />
  )
  if (!wanted) return standIn
  return (
    <Suspense fallback={standIn}>
      <ReferencePicker {...props} pending={pending} openOnLoad={openOnLoad} />
    </Suspense>
  )
}

function StandIn({
  modelMax,
  modelName,
  onDropFiles,
  onAdd,
}: Props & { onDropFiles: (files: File[]) => void; onAdd: () => void }) {
  const { t } = useTranslation()
  const cap = referenceCap(modelMax)
  return (
    <section aria-labelledby="references-title" className="space-y-3">
      <h2 id="references-title" className="text-sm font-medium text-zinc-200">
        {t('references.title')}
      </h2>
      <p className={cap === 0 ? 'text-sm text-amber-200/90' : 'text-xs text-zinc-400'}>
        {cap === 0
          ? t('references.modelTakesNone', { model: modelName })
          : t('references.help', { max: cap })}
      </p>
      <div
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault()
          onDropFiles(Array.from(e.dataTransfer.files))
        }}
        className="flex flex-wrap items-center gap-3 rounded-xl border border-dashed border-zinc-700 p-3"
      >
        <Button size="sm" disabled={cap === 0} onClick={onAdd}>
          {t('references.add')}
        </Button>
        <span className="text-xs text-zinc-400">{t('references.dropHint')}</span>
      </div>
    </section>
  )
}
