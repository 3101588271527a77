import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where uploaded files live. The local directory is the default; S3 arrives with the files issue. */
export type FileStorage = {
  readonly kind: 'local';
  readonly location: string;
  /** Writes, reads back and removes a probe file. */
  check(): Promise<void>;
};

export function createLocalStorage(options: {
  dataDir: string;
  storageUrl: string | undefined;
}): FileStorage {
  const root = options.storageUrl?.startsWith('file:')
    ? fileURLToPath(options.storageUrl)
    : resolve(options.dataDir, 'files');
  return {
    kind: 'local',
    location: root,
    async check() {
      const probeDir = join(root, '.health');
      await mkdir(probeDir, { recursive: true });
      const probe = join(probeDir, randomUUID());
      await writeFile(probe, 'ok');
      const back = await readFile(probe, 'utf8');
      await rm(probe, { force: true });
      if (back !== 'ok') throw new Error('storage returned different bytes than were written');
    },
  };
}
