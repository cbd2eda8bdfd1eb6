// Drafts that survive reloads and navigation: the goal form, unsaved prompt edits and locks,
// feedback. Kept in localStorage under one prefix; anything unreadable is ignored.
const PREFIX = 'sfumato.draft.'

export function loadDraft<T>(key: string): T | null {
  try {
    const raw = window.localStorage.getItem(PREFIX + key)
    return raw ? (JSON.parse(raw) as T) : null
  } catch {
    return null
  }
}

export function saveDraft(key: string, value: unknown) {
  try {
    window.localStorage.setItem(PREFIX + key, JSON.stringify(value))
  } catch {
    // Storage full or disabled: drafts are a convenience, never an error.
  }
}

export function clearDraft(key: string) {
  try {
    window.localStorage.removeItem(PREFIX + key)
  } catch {
    // ignore
  }
}

export const draftKeys = {
  describe: 'describe',
  prompt: (id: string) => `prompt.${id}`,
  feedback: (id: string) => `feedback.${id}`,
}
