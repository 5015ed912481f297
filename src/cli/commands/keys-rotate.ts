import { KeyStore, type SigningAlgorithm } from '../../keys/keystore.ts';
import { UserInputError } from '../../identity/users.ts';
import { KEY_RELOAD_MS } from '../../runtime/node.ts';
import { systemClock } from '../../util/clock.ts';
import { date, loadConfig, withStorage, type Command } from '../command.ts';

/** Clock skew between this machine and token verifiers. */
const SKEW_MARGIN_MS = 5 * 60_000;

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'Make a new signing key; keep the old one published until its tokens expire',
  usage: '[--alg ES256|RS256]',
  help: [
    'Options:',
    '  --alg ES256|RS256   algorithm of the new key (default: PORTCULLIS_SIGNING_ALG)',
    '',
    'Running servers on the same database start signing with the new key within a minute. The old',
    'key stays in the JWKS for the access token lifetime plus a margin, so tokens it signed keep',
    'verifying until they expire.',
  ].join('\n'),
  options: { alg: { type: 'string' } },
  async run({ values }, io) {
    const config = loadConfig(io);
    const alg = (values.alg as string | undefined) ?? config.signingAlgorithm;
    if (alg !== 'ES256' && alg !== 'RS256') throw new UserInputError('--alg must be ES256 or RS256.');
    // A running server may sign with the old key until it reloads keys; those tokens live accessTokenTtl.
    const overlapMs = config.accessTokenTtl * 1000 + KEY_RELOAD_MS + SKEW_MARGIN_MS;
    const { previous, next } = await withStorage(config, async (storage) => {
      const keys = await KeyStore.open(storage, systemClock, config.signingAlgorithm);
      const previous = keys.activeKid;
      return { previous, next: await keys.rotate(overlapMs, alg as SigningAlgorithm) };
    });
    io.out(
      [
        `New signing key ${next.kid} (${next.alg}) is active.`,
        `The previous key ${previous} stays published until ${date(next.createdAt + overlapMs)}.`,
        ...(alg !== config.signingAlgorithm
          ? [`Note: PORTCULLIS_SIGNING_ALG is ${config.signingAlgorithm}; set it to ${alg} or the next \`keys rotate\` goes back to ${config.signingAlgorithm}.`]
          : []),
        '',
      ].join('\n'),
    );
  },
};
