/**
 * A client's name is shown on the consent page as the application asking for access, so it must not
 * be able to look like another (HARD-11, SEC-09). Refused, with the reason, at registration (DCR,
 * client ID metadata documents, `portcullis clients add`):
 *
 * - characters that do not show, or that change how the rest shows: controls (Cc), format characters
 *   (Cf: zero-width space and joiners, bidirectional marks, overrides and isolates, soft hyphen, BOM),
 *   line and paragraph separators, private-use, unassigned and surrogate code points;
 * - one word mixing scripts whose letters look alike (`Pаypal` with a Cyrillic а), the usual way to
 *   spell another application's name. A name written wholly in one script (Cyrillic, Greek, CJK…) is
 *   fine, and so is a word mixing scripts that do not look alike (Japanese kana with Latin, `Gmailアプリ`).
 */

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;

/** Scripts with letters that pass for each other's (a/а/α, o/о/ο, p/р/ρ, ω/w, Armenian օ/o, Cherokee Ꭺ/A). */
const LOOKALIKE_SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Cherokee', 'Coptic'].map((name) => ({ name, letter: new RegExp(`\\p{Script=${name}}`, 'u') }));

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

const codePoint = (char: string): string => 'U+' + char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');

/** Why `name` could mislead on the consent page (completing "client_name …"), or null when it cannot. */
export function deceptiveNameProblem(name: string): string | null {
  const invisible = INVISIBLE.exec(name);
  if (invisible) return `must not contain invisible, control or text-direction characters (found ${codePoint(invisible[0])}).`;
  for (const [word] of name.matchAll(WORD)) {
    const scripts = LOOKALIKE_SCRIPTS.filter((s) => s.letter.test(word)).map((s) => s.name);
    if (scripts.length > 1) return `must not mix ${scripts.join(' and ')} letters in one word, as look-alike names do; write each word in one script.`;
  }
  return null;
}
