import { withoutPassword } from '../../bootstrap/banner.ts';
import { loadConfig, type Command } from '../command.ts';

/** Settings whose values are secrets: shown as set or not, never printed. */
const SECRET_SETTING = /secret|password|privateKey|apiKey|token$|encryptionKeys?$/i;

export const configCheck: Command = {
  name: 'config check',
  summary: 'Validate the settings and print the configuration in force',
  usage: '',
  help: 'Reads PORTCULLIS_CONFIG (a JSON file, optional) and the environment, exactly as `start` does. Secret values are never printed.',
  async run(_args, io) {
    const { scopeNames: _, ...config } = loadConfig(io);
    const shown = JSON.stringify(
      config,
      // Database URLs carry a password; secret settings are only said to be set.
      (key, value: unknown) => (SECRET_SETTING.test(key) && value ? '(set)' : typeof value === 'string' ? withoutPassword(value) : value),
      2,
    );
    io.out(`The configuration is valid${io.env.PORTCULLIS_CONFIG ? ` (file: ${io.env.PORTCULLIS_CONFIG})` : ''}.\n${shown}\n`);
  },
};
