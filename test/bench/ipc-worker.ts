import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';

/** A forked bench worker (a compiled script under dist/test/bench/) spoken to over IPC. */
export class IpcWorker<In, Out extends { type: string }> {
  private readonly waiters: { type: Out['type']; resolve: (m: Out) => void }[] = [];
  readonly child: ChildProcess;

  constructor(script: string, execArgv: string[] = []) {
    this.child = fork(resolve('dist/test/bench', script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    this.child.on('message', (msg: Out) => {
      const index = this.waiters.findIndex((w) => w.type === msg.type);
      if (index !== -1) this.waiters.splice(index, 1)[0]!.resolve(msg);
    });
  }

  send(msg: In): void {
    this.child.send(msg as object);
  }

  /** The next message of this type (register before sending what triggers it). */
  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${this.child.pid}: no "${type}" in ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`worker ${this.child.pid} exited (${code}) while waiting for "${type}"`));
      };
      this.child.once('exit', onExit);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolvePromise(m as Extract<Out, { type: T }>);
        },
      });
    });
  }

  /** Asks the worker to close (`closeMessage`), kills it if it has not exited within 10 s. */
  async close(closeMessage: In): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    const force = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      this.send(closeMessage);
    } catch {
      this.child.kill('SIGKILL');
    }
    await exited;
    clearTimeout(force);
  }
}
