// Notes the server writes for its own records, in English ("baseline", "edit of iteration 2", ...).
// A card already says each of these in the reader's language (first image, edited from #n, its
// error, interrupted), so only the reviser's own summary of a change is shown as text.
const SERVER_NOTES = [
  /^baseline$/,
  /^edit of iteration \d+$/,
  /^revision failed$/,
  /^interrupted before it was recorded$/,
]

/** The change summary to show on a card: the reviser's words, never a server's record note. */
export function changeNote(promptDiff: string): string {
  return SERVER_NOTES.some((note) => note.test(promptDiff)) ? '' : promptDiff
}
