// How many input images the model of a session takes (GET /api/providers, `max_input_images`):
// the result page offers "Edit this image" and edit mode only where the model can take one.
import { useEffect, useState } from 'react'

import { maxInputImages } from '@/features/describe/settings'
import { api } from '@/lib/api-client'
import type { ProvidersResponse, Session } from '@/lib/types'

let catalog: Promise<ProvidersResponse> | null = null

/** The providers, asked once per page load (a failed answer is asked again next time). */
function providers(): Promise<ProvidersResponse> {
  if (!catalog) {
    catalog = api.providers()
    catalog.catch(() => {
      catalog = null
    })
  }
  return catalog
}

/** The session's model's max_input_images from a catalogue (0 when the provider is unknown). */
export function sessionInputImages(list: ProvidersResponse, session: Session): number {
  const provider = list.providers.find((p) => p.name === session.image_provider)
  if (!provider) return 0
  const model = session.image_params?.model
  return maxInputImages(provider.capabilities, typeof model === 'string' ? model : undefined)
}

/** The session's model's max_input_images; null until the server has answered. */
export function useInputImages(session: Session): number | null {
  const [count, setCount] = useState<number | null>(null)
  const { image_provider: provider } = session
  const model = session.image_params?.model
  useEffect(() => {
    let live = true
    providers()
      .then((list) => live && setCount(sessionInputImages(list, session)))
      .catch(() => live && setCount(null))
    return () => {
      live = false
    }
    // Only the provider and model matter; the session object changes with every event.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [provider, model])
  return count
}

/** Forget the cached catalogue (tests, and after the server's providers change). */
export function forgetProviders(): void {
  catalog = null
}
