// The picker's side of the references (issue 19): each file checked before it is read (png/jpeg/webp
// only, MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS, room left), read as a data URL, moved, given a
// role and a label. Loaded with the picker, not with the first screen.
import { t } from '@/i18n'
import { MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS } from '@/lib/limits.gen'

import type { ReferenceRole } from './reference-api'
import type { DraftReference } from './reference-list'

export const REFERENCE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const

/** A file as the checks need it (a `File`, or anything shaped like one). */
export interface FileLike {
  name: string
  type: string
  size: number
}

const megabytes = (bytes: number) => Math.round(bytes / (1024 * 1024))

/** Why this file cannot be a reference, or null. */
export function fileProblem(file: FileLike): string | null {
  if (!(REFERENCE_TYPES as readonly string[]).includes(file.type))
    return t('referenceImages.badType', { name: file.name })
  if (file.size > MAX_REFERENCE_BYTES)
    return t('referenceImages.tooBig', { name: file.name, mb: megabytes(MAX_REFERENCE_BYTES) })
  if (file.size === 0) return t('referenceImages.empty', { name: file.name })
  return null
}

/** Why a decoded image is refused (too many pixels), or null. */
export function pixelProblem(name: string, width: number, height: number): string | null {
  return width * height > MAX_REFERENCE_PIXELS
    ? t('referenceImages.tooManyPixels', { name, mp: Math.round(MAX_REFERENCE_PIXELS / 1e6) })
    : null
}

/** Which of the dropped files can be added (room and checks), and a message for each one that cannot. */
export function sortFiles<F extends FileLike>(
  files: F[],
  have: number,
  cap: number,
): { accepted: F[]; problems: string[] } {
  const accepted: F[] = []
  const problems: string[] = []
  for (const file of files) {
    const problem = fileProblem(file)
    if (problem) problems.push(problem)
    else if (have + accepted.length >= cap)
      problems.push(t('referenceImages.full', { name: file.name, max: cap }))
    else accepted.push(file)
  }
  return { accepted, problems }
}

/** The list with the item at `index` moved by `delta` places (unchanged at either end). */
export function move<T>(items: T[], index: number, delta: number): T[] {
  const to = index + delta
  if (index < 0 || index >= items.length || to < 0 || to >= items.length) return items
  const next = items.slice()
  const [item] = next.splice(index, 1)
  next.splice(to, 0, item)
  return next
}

export const withRole = (items: DraftReference[], key: string, role: ReferenceRole) =>
  items.map((r) => (r.key === key ? { ...r, role } : r))

export const withLabel = (items: DraftReference[], key: string, label: string) =>
  items.map((r) => (r.key === key ? { ...r, label } : r))

/** Read a file as a data URL (the JSON body carries it; the browser never sends multipart here). */
export function readDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error ?? new Error('read failed'))
    reader.readAsDataURL(file)
  })
}

/** The picture's size, where the browser can decode off-screen (null: not measured; the server checks). */
export async function measure(file: Blob): Promise<{ width: number; height: number } | null> {
  if (typeof createImageBitmap !== 'function') return null
  const bitmap = await createImageBitmap(file)
  const size = { width: bitmap.width, height: bitmap.height }
  bitmap.close()
  return size
}
