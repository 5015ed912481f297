import { date, loadConfig, table, withStorage, type Command } from '../command.ts';

export const keysList: Command = {
  name: 'keys list',
  summary: 'List signing keys and whether they are published',
  usage: '',
  help: 'STATUS: active keys sign tokens; retired keys only verify, and leave the JWKS at the time shown.',
  async run(_args, io) {
    const keys = await withStorage(loadConfig(io), (storage) => storage.signingKeys.list());
    if (keys.length === 0) {
      io.out('No signing keys yet: the server creates one when it first starts.\n');
      return;
    }
    const now = Date.now();
    const status = (retiredAt: number | null, publishUntil: number | null): string => {
      if (retiredAt === null) return 'active';
      if (publishUntil !== null && publishUntil > now) return `retired, published until ${date(publishUntil)}`;
      return 'retired, no longer published';
    };
    io.out(table(['KID', 'ALG', 'CREATED', 'STATUS'], keys.map((k) => [k.kid, k.alg, date(k.createdAt), status(k.retiredAt, k.publishUntil)])));
  },
};
