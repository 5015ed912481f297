const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A moment for a page, in UTC and spelled the same in every browser ("4 Dec 2026, 14:05 UTC"): pages
 * have no script to convert it to the reader's zone, and an explicit zone cannot be misread.
 */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/** A <time> element: the readable form, with the machine-readable instant in `datetime`. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
