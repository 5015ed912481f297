import { CompiledQuery, type Kysely, type Transaction } from 'kysely';

/** Runs the queue's next batch: after the I/O callbacks of this event-loop turn, so it gathers their writes. */
export type Schedule = (flush: () => void) => void;

const afterThisTurn: Schedule = typeof setImmediate === 'function' ? (flush) => void setImmediate(flush) : (flush) => void setTimeout(flush, 0);

const SAVEPOINT = CompiledQuery.raw('savepoint grouped_write');
const RELEASE = CompiledQuery.raw('release savepoint grouped_write');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint grouped_write');

interface Pending<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

type Outcome<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

export interface GroupCommit<In, Out> {
  /** Runs `write` for `input` in the next shared transaction; settles once that transaction has committed. */
  (input: In): Promise<Out>;
  /** Settles when every write queued so far has committed or failed. */
  drain(): Promise<void>;
}

/**
 * Group commit for a database with one connection (SQLite): the writes that arrive within one
 * event-loop turn share one transaction, so its fixed cost (BEGIN, the COMMIT's WAL append of every
 * page touched, the locks) is paid once per batch instead of once per write (bench/README.md,
 * "Refresh CPU against the SDK peer").
 *
 * Each write runs in its own savepoint and is atomic on its own: one that throws is rolled back to
 * its savepoint and its caller alone gets the error. Nobody's promise settles before the shared
 * COMMIT has returned, so a caller that answers after `await` answers only what is durable, exactly
 * as with a transaction of its own; if the COMMIT fails, every caller of the batch gets its error.
 * The writes of a batch run one after another in arrival order, so the result is the same as if each
 * had run in its own transaction in that order (a second use of a token sees the first). A batch of
 * one is a plain transaction, without a savepoint.
 *
 * Only for a single-connection database, where transactions run one at a time anyway: on a pool,
 * one batch would serialise writes that could run side by side.
 */
export function groupCommit<DB, In, Out>(db: Kysely<DB>, write: (trx: Transaction<DB>, input: In) => Promise<Out>, schedule: Schedule = afterThisTurn): GroupCommit<In, Out> {
  let queue: Pending<In, Out>[] = [];
  let running: Promise<void> | null = null;

  const runBatch = async (batch: Pending<In, Out>[]): Promise<void> => {
    let outcomes: Outcome<Out>[];
    try {
      outcomes = await db.transaction().execute(async (trx) => {
        if (batch.length === 1) return [{ ok: true, value: await write(trx, batch[0]!.input) }];
        const done: Outcome<Out>[] = [];
        for (const { input } of batch) {
          await trx.executeQuery(SAVEPOINT);
          try {
            const value = await write(trx, input);
            await trx.executeQuery(RELEASE);
            done.push({ ok: true, value });
          } catch (error) {
            // Undo this write alone; a failure to undo it fails the whole batch (below).
            await trx.executeQuery(ROLLBACK_TO);
            await trx.executeQuery(RELEASE);
            done.push({ ok: false, error });
          }
        }
        return done;
      });
    } catch (error) {
      // Nothing of the batch was committed.
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) p.resolve(outcome.value);
      else p.reject(outcome.error);
    });
  };

  const flush = (): void => {
    running = (async () => {
      // Writes queued while a batch runs form the next one.
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        await runBatch(batch);
      }
      running = null;
    })();
  };

  const enqueue = ((input: In) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (queue.length === 1 && running === null) schedule(flush);
    })) as GroupCommit<In, Out>;

  enqueue.drain = async () => {
    // Scheduled but not yet started, or running: wait until both the queue and the runner are empty.
    while (queue.length > 0 || running !== null) {
      if (running) await running;
      else await new Promise<void>((resolve) => schedule(resolve));
    }
  };
  return enqueue;
}
