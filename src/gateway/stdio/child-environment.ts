/**
 * The environment a stdio upstream starts with: what a program needs to run and find its files,
 * nothing of the gateway's own settings or secrets (its database URL, its upstream credentials, the
 * identity provider's client secret…), plus the variables the operator names in `upstream.passEnv`.
 */

const POSIX_BASICS = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TMPDIR'];
const WINDOWS_BASICS = ['PATH', 'PATHEXT', 'SYSTEMROOT', 'SYSTEMDRIVE', 'COMSPEC', 'WINDIR', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'TEMP', 'TMP', 'USERNAME'];

export function childEnvironment(
  source: Readonly<Record<string, string | undefined>>,
  passEnv: readonly string[],
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  const names = [...(platform === 'win32' ? WINDOWS_BASICS : POSIX_BASICS), ...passEnv];
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    // A value starting with "()" is an exported shell function (the Shellshock vector): never pass it.
    if (value !== undefined && !value.startsWith('()')) env[name] = value;
  }
  return env;
}

/** Values worth hiding if the child ever prints them: what `passEnv` hands over (API keys, typically). */
export function secretValuesOf(env: Readonly<Record<string, string>>, passEnv: readonly string[]): string[] {
  return passEnv.map((name) => env[name]).filter((v): v is string => v !== undefined && v.length >= 8);
}
