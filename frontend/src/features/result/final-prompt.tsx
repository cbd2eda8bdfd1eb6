import { useState } from 'react'

import { Button } from '@/components/button'

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // Clipboard API needs a secure context; fall back to a hidden textarea.
    const area = document.createElement('textarea')
    area.value = text
    area.style.position = 'fixed'
    area.style.opacity = '0'
    document.body.appendChild(area)
    area.select()
    const ok = document.execCommand('copy')
    area.remove()
    return ok
  }
}

/** The final (best) prompt with a copy button. */
export function FinalPrompt({ text }: { text: string }) {
  const [copied, setCopied] = useState<'idle' | 'ok' | 'failed'>('idle')
  const copy = async () => {
    setCopied((await copyText(text)) ? 'ok' : 'failed')
    setTimeout(() => setCopied('idle'), 2000)
  }
  return (
    <div className="space-y-2">
      <div className="flex justify-end">
        <Button size="sm" onClick={() => void copy()}>
          {copied === 'ok' ? 'Copied ✓' : copied === 'failed' ? 'Copy failed' : 'Copy prompt'}
        </Button>
      </div>
      <pre
        data-testid="final-prompt"
        className="max-h-96 overflow-auto rounded-xl border border-zinc-800 bg-zinc-950 p-3 font-mono text-xs leading-relaxed whitespace-pre-wrap text-zinc-200"
      >
        {text}
      </pre>
    </div>
  )
}
