import { envBool, type ApplyEnv } from './env-values.ts';
import type { ConfigInput } from './schema.ts';

/** Environment variables of the `toolPolicy` setting (src/config/tool-policy.ts); its rules are set in the config file. */
const toolPolicy = (c: ConfigInput): NonNullable<ConfigInput['toolPolicy']> => (c.toolPolicy ??= {});

export const TOOL_POLICY_ENV: Record<string, ApplyEnv> = {
  PORTCULLIS_TOOL_POLICY_DEFAULT: (c, v) => void (toolPolicy(c).default = v.trim() as 'allow'),
  PORTCULLIS_TOOL_POLICY_FILTER_LISTS: (c, v, n) => void (toolPolicy(c).filterLists = envBool(n, v)),
  PORTCULLIS_GROUPS_CLAIM: (c, v) => void (toolPolicy(c).groupsClaim = /^(false|off|none)$/i.test(v.trim()) ? false : v.trim()),
};
