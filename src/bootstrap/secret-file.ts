import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `content` to `path` readable and writable only by this process's user (0600), its folder
 * created 0700 if missing. The content goes to a fresh file (`wx`: never an existing file or a
 * symlink someone planted) that is then renamed over `path`, so no reader ever sees a partial or
 * wider-permission file, and a symlink at `path` is replaced rather than followed.
 */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
