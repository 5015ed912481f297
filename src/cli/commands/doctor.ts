import { UserInputError } from '../../identity/users.ts';
import { runDoctor, type CheckResult } from '../../doctor/checks.ts';
import { printable, type Command } from '../command.ts';

/** An access token for the URL, from the environment so it is not in the process list. */
export const DOCTOR_TOKEN = 'PORTCULLIS_DOCTOR_TOKEN';

const MARK: Record<CheckResult['status'], string> = { pass: '✓', fail: '✗', skip: '-' };

export const doctor: Command = {
  name: 'doctor',
  summary: 'Check a deployment from outside, as MCP clients discover it, and print what to fix',
  usage: '<mcp-url>',
  positionals: ['mcp-url'],
  help: [
    'Sends what a client sends, without a token, to the public MCP URL (e.g. https://mcp.example.com/mcp) and checks:',
    'the 401 carries WWW-Authenticate: Bearer resource_metadata=… (a proxy that drops it is the common failure),',
    'the protected resource metadata names this URL byte for byte as `resource` and answers browsers with CORS,',
    "each authorization server's RFC 8414 metadata (else its OpenID Connect discovery) has the same issuer byte for byte,",
    'offers PKCE S256 and dynamic registration or client ID metadata documents, and its JWKS has keys,',
    'everything is https (plain http only on loopback), the server clock is within 60 s of this one, and an event',
    'stream is not buffered by a proxy: that needs an access token for the URL, read from PORTCULLIS_DOCTOR_TOKEN',
    '(an environment variable, so it is not in the process list); without one it is skipped.',
    'Runs anywhere; needs no other settings. Exits 1 when a check fails.',
  ].join('\n'),
  async run({ positionals }, io) {
    const target = positionals[0] ?? '';
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new UserInputError(`"${printable(target)}" is not a URL. Give the MCP URL clients use, e.g. https://mcp.example.com/mcp.`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UserInputError(`${printable(target)} is not an http(s) URL.`);
    const token = io.env[DOCTOR_TOKEN]?.trim();
    const results = await runDoctor(target, token ? { token } : {});
    for (const r of results) io.out(`${MARK[r.status]} ${r.name}: ${printable(r.detail)}\n`);
    const failed = results.filter((r) => r.status === 'fail').length;
    io.out(failed === 0 ? 'No problems found.\n' : `${failed} problem${failed === 1 ? '' : 's'} to fix.\n`);
    return failed === 0 ? 0 : 1;
  },
};
