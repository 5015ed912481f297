import { z } from 'zod';
import type { TaskRecord } from '../../storage/types.ts';
import { randomId } from '../../util/crypto.ts';
import { defineTool, jsonResult, toolError } from './registry.ts';

/**
 * A per-user task list. Every operation is scoped to the token's subject: the user id comes from
 * the verified token, never from tool input, so one user can neither see nor touch another's tasks.
 */

const taskId = z.string().trim().min(1).max(100).describe('The id of a task, as returned by list_tasks or create_task.');

function publicTask(t: TaskRecord) {
  return {
    id: t.id,
    title: t.title,
    done: t.done,
    createdAt: new Date(t.createdAt).toISOString(),
    completedAt: t.completedAt === null ? null : new Date(t.completedAt).toISOString(),
  };
}

export const listTasksTool = defineTool({
  name: 'list_tasks',
  title: 'List tasks',
  description: 'Lists your tasks, open and done.',
  requiredScopes: ['tasks:read'],
  inputSchema: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_input, { principal, app }) {
    const tasks = await app.storage.tasks.list(principal.subject);
    return jsonResult({ tasks: tasks.map(publicTask) });
  },
});

export const createTaskTool = defineTool({
  name: 'create_task',
  title: 'Create a task',
  description: 'Adds a task to your list.',
  requiredScopes: ['tasks:write'],
  inputSchema: z.object({ title: z.string().trim().min(1).max(500).describe('What needs doing (1 to 500 characters).') }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run({ title }, { principal, app }) {
    const task: TaskRecord = {
      id: randomId(app.random),
      userId: principal.subject,
      title,
      done: false,
      createdAt: app.clock.now(),
      completedAt: null,
    };
    await app.storage.tasks.create(task);
    return jsonResult({ task: publicTask(task) });
  },
});

export const completeTaskTool = defineTool({
  name: 'complete_task',
  title: 'Complete a task',
  description: 'Marks one of your tasks as done.',
  requiredScopes: ['tasks:write'],
  inputSchema: z.object({ id: taskId }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run({ id }, { principal, app }) {
    const task = await app.storage.tasks.complete(principal.subject, id, app.clock.now());
    // The same answer for "no such task" and "someone else's task": ids reveal nothing.
    if (!task) return toolError(`You have no task with id ${id}.`);
    return jsonResult({ task: publicTask(task) });
  },
});

export const deleteTaskTool = defineTool({
  name: 'delete_task',
  title: 'Delete a task',
  description: 'Removes one of your tasks for good.',
  requiredScopes: ['tasks:write'],
  inputSchema: z.object({ id: taskId }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run({ id }, { principal, app }) {
    const removed = await app.storage.tasks.remove(principal.subject, id);
    if (!removed) return toolError(`You have no task with id ${id}.`);
    return jsonResult({ deleted: id });
  },
});

export const taskTools = [listTasksTool, createTaskTool, completeTaskTool, deleteTaskTool];
