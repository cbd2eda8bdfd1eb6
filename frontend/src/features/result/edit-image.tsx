import { useTranslation } from '@/i18n/react'
import { useId, useState } from 'react'

import { Button } from '@/components/button'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount, FieldLabel, TextArea } from '@/components/field'
import { referenceApi } from '@/components/reference-api'
import { useBusyAction } from '@/hooks/use-busy-action'
import type { Session } from '@/lib/types'

interface Props {
  sessionId: string
  index: number
  maxChars: number
  disabled?: boolean
  onSession: (session: Session) => void
}

/**
 * "Edit this image": a short instruction ("change only the sky"), then one new image made from this
 * one by the provider's edit call (`POST /generate` with `edit_from`); it shows "edited from #n".
 */
export function EditImage({ sessionId, index, maxChars, disabled, onSession }: Props) {
  const { t } = useTranslation()
  const id = useId()
  const [open, setOpen] = useState(false)
  const [text, setText] = useState('')
  const { busy, error, clearError, act } = useBusyAction()
  const tooLong = text.length > maxChars

  const run = async () => {
    if (!text.trim() || tooLong) return
    await act(async () => {
      onSession(await referenceApi.edit(sessionId, index, text.trim()))
      setOpen(false)
      setText('')
    })
  }

  if (!open) {
    return (
      <Button
        size="sm"
        variant="ghost"
        className="-ml-2 px-2"
        disabled={disabled}
        onClick={() => setOpen(true)}
        aria-label={t('edit.buttonOf', { n: index })}
      >
        {t('edit.button')}
      </Button>
    )
  }
  return (
    <form
      className="w-full space-y-2"
      data-testid={`edit-form-${index}`}
      onSubmit={(e) => {
        e.preventDefault()
        void run()
      }}
    >
      <FieldLabel htmlFor={id} hint={<CharCount value={text} max={maxChars} />}>
        {t('edit.instructionLabel', { n: index })}
      </FieldLabel>
      <TextArea
        id={id}
        rows={2}
        autoFocus
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setOpen(false)
        }}
        placeholder={t('edit.instructionPlaceholder')}
        aria-invalid={tooLong}
      />
      <ErrorAlert error={error} onDismiss={clearError} />
      <div className="flex flex-wrap justify-end gap-2">
        <Button size="sm" variant="ghost" onClick={() => setOpen(false)} disabled={busy}>
          {t('edit.cancel')}
        </Button>
        <Button
          size="sm"
          variant="primary"
          type="submit"
          disabled={busy || !text.trim() || tooLong || disabled}
        >
          {busy ? t('edit.editing') : t('edit.run')}
        </Button>
      </div>
    </form>
  )
}
