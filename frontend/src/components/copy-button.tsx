import { useTranslation } from '@/i18n/react'
import { useState } from 'react'

import { Button, type ButtonProps } from '@/components/button'
import { copyText } from '@/lib/clipboard'

/** A button that copies `text` and says so for two seconds. */
export function CopyButton({ text, label, ...props }: { text: string; label: string } & ButtonProps) {
  const { t } = useTranslation()
  const [state, setState] = useState<'idle' | 'ok' | 'failed'>('idle')
  const copy = async () => {
    setState((await copyText(text)) ? 'ok' : 'failed')
    setTimeout(() => setState('idle'), 2000)
  }
  return (
    <Button size="sm" {...props} onClick={() => void copy()} aria-live="polite">
      {state === 'ok' ? t('copy.ok') : state === 'failed' ? t('copy.failed') : label}
    </Button>
  )
}
