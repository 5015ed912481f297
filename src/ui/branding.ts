export type Branding = { serverName: string; logoUrl?: string; accentColor?: string };

export const DEFAULT_ACCENT = '#2563eb';

/** Returns the accent as lowercase #rrggbb, or undefined if it is not a #rgb/#rrggbb hex (it ends up in CSS). */
export function validAccent(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (!m?.[1]) return undefined;
  const hex = m[1].toLowerCase();
  return '#' + (hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex);
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(1 + i * 2, 3 + i * 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Text colour for a button filled with `accent`: whichever of white/black (one of them always reaches 4.58:1) contrasts more. */
export function onAccent(accent: string): string {
  return contrastRatio(accent, '#ffffff') >= contrastRatio(accent, '#000000') ? '#ffffff' : '#000000';
}
