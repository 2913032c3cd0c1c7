/**
 * Lowers the CPU priority of the thread that imports it — imported first by
 * the batch-prediction worker, so even compiling the rest of the thread's code
 * runs below the event loop.
 *
 * Moving a batch off the event loop keeps it from blocking requests, but on a
 * machine with few cores the thread still competes with the event loop for CPU
 * time; at equal priority a busy batch thread costs real-time requests their
 * tail latency. Lowered, it takes the CPU the serving thread leaves idle — the
 * batch lane's "yield to real-time work", applied by the kernel.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The nice value of batch threads (0 is the event loop's, 19 the lowest priority). At 19 the thread's CFS weight is
 * 15 against the event loop's 1,024 (at 10 it was 110). Measured with the noisy-neighbour bench, three alternating
 * runs each: B's p99 under the flood 19.3 ms at 19 against 24.8 ms at 10 (medians), the million-row batch no slower
 * (9.6–12.6 s against 9.9–14.9 s): the batch still gets every cycle the serving thread leaves idle.
 */
const BATCH_THREAD_NICE = 19;

lowerThisThreadsPriority(BATCH_THREAD_NICE);

/**
 * Linux schedules threads as tasks of their own. The thread gets the nice value, then the SCHED_IDLE policy where
 * util-linux's `chrt` can set it (Node has no call for `sched_setscheduler`). Under SCHED_IDLE a woken thread of
 * normal policy preempts the batch at once, and the kernel counts a core running only idle-policy work as free when
 * it places a woken thread; a nice-19 thread may first finish its time slice. Elsewhere the thread keeps the process's
 * priority.
 */
function lowerThisThreadsPriority(nice: number): void {
  let tid: number;
  try {
    // `/proc/thread-self` → `<pid>/task/<tid>`; setpriority on a tid changes that thread only.
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!(Number.isInteger(tid) && tid > 0)) return;
    setPriority(tid, nice);
  } catch {
    // No procfs or no permission: run at normal priority.
    return;
  }
  // Where `chrt` is missing or refused, the nice value stays.
  spawnSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5_000 });
}
