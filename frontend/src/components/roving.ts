// Arrow keys inside a radio group: move the selection to the next/previous radio and focus it
// (WAI-ARIA radio group pattern: one tab stop per group, arrows move the choice).
import type { KeyboardEvent } from 'react'

const KEYS: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }

export function rovingKeyDown(event: KeyboardEvent<HTMLElement>) {
  const step = KEYS[event.key] ?? (event.key === 'Home' ? -Infinity : event.key === 'End' ? Infinity : 0)
  if (!step) return
  const group = event.currentTarget.closest('[role="radiogroup"]')
  if (!group) return
  const radios = [...group.querySelectorAll<HTMLElement>('[role="radio"]:not([disabled])')]
  const at = radios.indexOf(event.currentTarget)
  if (at === -1 || radios.length === 0) return
  event.preventDefault()
  const next =
    step === -Infinity
      ? 0
      : step === Infinity
        ? radios.length - 1
        : (at + step + radios.length) % radios.length
  radios[next].focus()
  radios[next].click()
}
