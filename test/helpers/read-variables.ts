import { DOCTOR_TOKEN } from '../../src/cli/commands/doctor.ts';
import { ENV_VARS } from '../../src/config/env.ts';
import { INITIAL_ADMIN_PASSWORD } from '../../src/runtime/workers-config.ts';

/**
 * Every environment variable something in Portcullis reads: the settings, the config file's path, the
 * Worker's first-admin secret and `portcullis doctor`'s token. Docs may name these and no others.
 */
export const READ_VARIABLES: ReadonlySet<string> = new Set([...ENV_VARS, 'PORTCULLIS_CONFIG', INITIAL_ADMIN_PASSWORD, DOCTOR_TOKEN]);
