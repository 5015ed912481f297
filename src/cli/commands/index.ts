import type { Command } from '../command.ts';
import { backup } from './backup.ts';
import { clientsAdd } from './clients-add.ts';
import { clientsList } from './clients-list.ts';
import { clientsPrune } from './clients-prune.ts';
import { clientsRemove } from './clients-remove.ts';
import { configCheck } from './config-check.ts';
import { doctor } from './doctor.ts';
import { grantsList } from './grants-list.ts';
import { grantsRevoke } from './grants-revoke.ts';
import { keysList } from './keys-list.ts';
import { keysRewrap } from './keys-rewrap.ts';
import { keysRotate } from './keys-rotate.ts';
import { sessionsList } from './sessions-list.ts';
import { sessionsRevoke } from './sessions-revoke.ts';
import { start } from './start.ts';
import { usersAdd } from './users-add.ts';
import { usersAdmin } from './users-admin.ts';
import { usersGroups } from './users-groups.ts';
import { usersList } from './users-list.ts';
import { usersPasswd } from './users-passwd.ts';
import { usersRemove } from './users-remove.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  start,
  usersAdd,
  usersList,
  usersRemove,
  usersPasswd,
  usersAdmin,
  usersGroups,
  clientsAdd,
  clientsList,
  clientsRemove,
  clientsPrune,
  grantsList,
  grantsRevoke,
  sessionsList,
  sessionsRevoke,
  keysRotate,
  keysList,
  keysRewrap,
  configCheck,
  doctor,
  backup,
];
