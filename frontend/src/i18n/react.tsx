// The React side of i18next, kept to what the app uses: a hook that re-renders on a language
// change, and <Trans> for a sentence with one kind of inline markup (<code>). react-i18next would
// add 7 KB gzip to the first screen for the same.
import { cloneElement, type ReactElement, useSyncExternalStore } from 'react'

import { i18n, t } from '@/i18n'

// Bumped when the language changes or a catalogue part arrives, so open pages redraw their words.
let version = 0
const bump = () => {
  version += 1
}
i18n.on('languageChanged', bump)
i18n.store.on('added', bump)

function subscribe(onChange: () => void) {
  i18n.on('languageChanged', onChange)
  i18n.store.on('added', onChange)
  return () => {
    i18n.off('languageChanged', onChange)
    i18n.store.off('added', onChange)
  }
}

/** `t` and the instance; the component re-renders when the language changes. */
// eslint-disable-next-line react-refresh/only-export-components
export function useTranslation() {
  useSyncExternalStore(subscribe, () => version)
  return { t, i18n }
}

/**
 * A translated sentence whose `<tag>...</tag>` parts become the given elements, e.g.
 * "Set <code>{{key}}</code> in .env" with `components={{ code: <code className=".." /> }}`.
 */
export function Trans({
  i18nKey,
  values,
  components,
}: {
  i18nKey: string
  values?: Record<string, unknown>
  components: Record<string, ReactElement>
}) {
  useTranslation()
  const text = t(i18nKey, values ?? {})
  const parts = text.split(/(<(\w+)>[\s\S]*?<\/\2>)/g)
  const out: (string | ReactElement)[] = []
  for (let i = 0; i < parts.length; i++) {
    const m = /^<(\w+)>([\s\S]*?)<\/\1>$/.exec(parts[i])
    if (m && components[m[1]]) {
      out.push(cloneElement(components[m[1]], { key: i }, m[2]))
      i++ // skip the captured tag name
    } else if (parts[i]) out.push(parts[i])
  }
  return <>{out}</>
}
