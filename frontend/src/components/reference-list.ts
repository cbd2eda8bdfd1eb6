// The references a person is putting together on the goal form, and the rules the server also checks
// (issue 19): png/jpeg/webp only, MAX_REFERENCE_BYTES each, as many as the chosen model takes (at most
// MAX_REFERENCES). Checked here first so a wrong file gets a clear message before anything is sent.
import { t } from '@/i18n'
import { MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS, MAX_REFERENCES } from '@/lib/limits.gen'

import type { ReferenceInput, ReferenceRole } from './reference-api'

export const REFERENCE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const

/** One reference on the form: what will be sent, and what the form shows about it. */
export interface DraftReference extends ReferenceInput {
  key: string
  name: string
}

/** A file as the checks need it (a `File`, or anything shaped like one). */
export interface FileLike {
  name: string
  type: string
  size: number
}

const megabytes = (bytes: number) => Math.round(bytes / (1024 * 1024))

/** How many references the chosen model takes, never more than SFUMATO keeps. */
export const referenceCap = (modelMax: number): number => Math.max(0, Math.min(modelMax, MAX_REFERENCES))

/** Why this file cannot be a reference, or null. */
export function fileProblem(file: FileLike): string | null {
  if (!(REFERENCE_TYPES as readonly string[]).includes(file.type))
    return t('references.badType', { name: file.name })
  if (file.size > MAX_REFERENCE_BYTES)
    return t('references.tooBig', { name: file.name, mb: megabytes(MAX_REFERENCE_BYTES) })
  if (file.size === 0) return t('references.empty', { name: file.name })
  return null
}

/** Why a decoded image is refused (too many pixels), or null. */
export function pixelProblem(name: string, width: number, height: number): string | null {
  return width * height > MAX_REFERENCE_PIXELS
    ? t('references.tooManyPixels', { name, mp: Math.round(MAX_REFERENCE_PIXELS / 1e6) })
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
    else if (have + accepted.length >= cap) problems.push(t('references.full', { name: file.name, max: cap }))
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

/** What goes to the server: image, role and the trimmed label, in the order on screen. */
export const toInputs = (items: DraftReference[]): ReferenceInput[] =>
  items.map(({ image, role, label }) => ({ image, role, label: label.trim() }))

/** Why the form cannot be sent with these references for this model, or null. */
export function referencesProblem(
  items: DraftReference[],
  modelMax: number,
  labelMax: number,
): string | null {
  if (!items.length) return null
  if (modelMax <= 0) return t('references.modelTakesNoneBlock')
  const cap = referenceCap(modelMax)
  if (items.length > cap) return t('references.tooMany', { count: items.length - cap, max: cap })
  if (items.some((r) => r.label.trim().length > labelMax))
    return t('references.labelTooLong', { max: labelMax })
  return null
}

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
