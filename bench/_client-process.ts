/**
 * A bench client in a process of its own, started under Linux's SCHED_IDLE
 * policy (`chrt --idle 0`) or `nice -n <nice>`: every thread of it runs at that
 * priority, V8's garbage-collector and compiler threads included. A client on a
 * thread of the bench's own process could be niced, but its garbage was
 * collected by the process's shared helper threads at normal priority,
 * competing with the server for the machine's few cores as clients on other
 * machines would not. Parent and client speak over IPC in messages `{ type, ... }`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ClientMessage {
  type: string;
}

export interface ClientProcess {
  send(message: ClientMessage & Record<string, unknown>): void;
  /** The next message of this type. A message nobody waits for is dropped: ask before sending what it answers. */
  next<T extends ClientMessage>(type: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * How a client process is scheduled. `idle`: only on CPU time nothing else wants; a woken task of normal policy
 * preempts it at once. `nice`: a lower weight, but under Linux's EEVDF scheduler a running niced task may finish
 * its time slice before a woken server thread gets the core.
 */
export type ClientPriority = { policy: 'idle' } | { policy: 'nice'; nice: number };

/** The priority to run clients at: `wanted`, or `nice` at `fallbackNice` where `chrt` (util-linux) is missing. */
export function availableClientPriority(wanted: ClientPriority['policy'], fallbackNice: number): ClientPriority {
  if (wanted === 'idle' && spawnSync('chrt', ['--idle', '0', 'true']).status === 0) return { policy: 'idle' };
  return { policy: 'nice', nice: fallbackNice };
}

/** The priority as the bench's JSON reports it. */
export function describePriority(priority: ClientPriority): string {
  return priority.policy === 'idle' ? 'SCHED_IDLE' : `nice ${priority.nice}`;
}

export function startClientProcess(script: URL, priority: ClientPriority): ClientProcess {
  const path = fileURLToPath(script);
  const node = [process.execPath, '--import', 'tsx', path];
  const [command, ...args] = priority.policy === 'idle' ? ['chrt', '--idle', '0', ...node] : ['nice', '-n', String(priority.nice), ...node];
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<string, { resolve: (message: ClientMessage) => void; reject: (error: Error) => void }>();
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure = error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  child.on('message', (message: ClientMessage) => {
    if (message.type === 'failed') return fail(new Error(`${path}: ${String((message as { message?: unknown }).message)}`));
    waiting.get(message.type)?.resolve(message);
    waiting.delete(message.type);
  });
  child.on('error', fail);
  child.on('exit', (code) => fail(new Error(`${path} exited with ${code}`)));
  return {
    send: (message) => child.send(message),
    next: <T extends ClientMessage>(type: string) =>
      new Promise<T>((resolve, reject) => {
        if (failure) return reject(failure);
        waiting.set(type, { resolve: (message) => resolve(message as T), reject });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/** In a client process: handles the parent's messages, and exits when the parent is gone (stopped or killed). */
export function onParentMessage<M extends ClientMessage>(handle: (message: M) => void): void {
  process.on('message', handle);
  process.once('disconnect', () => process.exit(0));
}

/** In a client process: reports a failure to the parent and exits. */
export function reportFailure(error: unknown): never {
  process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
