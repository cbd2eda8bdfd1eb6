// A provider's name and one-line description come from the server in English; the catalogue has
// them in each language for the providers SFUMATO ships (others show the server's words).
import { i18n, t } from '@/i18n'

interface Named {
  name: string
  label: string
  description?: string | null
}

const known = (key: string) => i18n.exists(key)

export function providerLabel(p: Named): string {
  return known(`providers.names.${p.name}`) ? t(`providers.names.${p.name}`) : p.label
}

export function providerAbout(p: Named): string | null {
  return known(`providers.about.${p.name}`) ? t(`providers.about.${p.name}`) : (p.description ?? null)
}

/** An image setting's value as a person reads it ("transparent" -> "прозрачный"); the API value is unchanged. */
export function settingValueLabel(value: string): string {
  return /^[a-z_]+$/.test(value) && known(`settings.value.${value}`) ? t(`settings.value.${value}`) : value
}
