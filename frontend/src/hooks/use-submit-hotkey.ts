// Ctrl/Cmd+Enter submits the current step (one listener per mounted step).
import { useEffect, useRef } from 'react'

export function isSubmitChord(e: KeyboardEvent): boolean {
  return e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey
}

export function useSubmitHotkey(onSubmit: (() => void) | null) {
  const handler = useRef(onSubmit)
  useEffect(() => {
    handler.current = onSubmit
  })
  const enabled = onSubmit !== null
  useEffect(() => {
    if (!enabled) return
    const listener = (e: KeyboardEvent) => {
      if (!isSubmitChord(e) || e.defaultPrevented) return
      e.preventDefault()
      handler.current?.()
    }
    window.addEventListener('keydown', listener)
    return () => window.removeEventListener('keydown', listener)
  }, [enabled])
}
