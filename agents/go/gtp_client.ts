/**
 * A GTP v2 controller: spawns a GTP program (GnuGo, or `lab gtp`) and talks to it over stdin/stdout.
 *
 *   const gtp = new GtpClient('/usr/games/gnugo', ['--mode', 'gtp']);
 *   await gtp.send('boardsize 7');            // '' (the text after "=")
 *   const v = await gtp.send('genmove b');    // 'D4'
 *   await gtp.close();
 *
 * Every command is sent with a numeric id and its response is matched by that id. `send` resolves with the
 * response text (id and "=" stripped, trimmed) and rejects with a `GtpCommandError` on "?" answers, with a
 * `GtpClientError` on a timeout (the program is then killed, its state being unknown) or when the program has
 * exited or could not be started (the message names the program, its exit code/signal and the end of its
 * stderr).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export class GtpClientError extends Error {
  override name = 'GtpClientError';
}

/** The program answered "? message". */
export class GtpCommandError extends Error {
  override name = 'GtpCommandError';
  constructor(
    readonly command: string,
    readonly reply: string,
  ) {
    super(`GTP command '${command}' failed: ${reply}`);
  }
}

export interface GtpClientOptions {
  /** Default time limit per command in milliseconds (default 60 000). */
  timeoutMs?: number;
}

interface Pending {
  id: number;
  command: string;
  resolve: (text: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class GtpClient {
  readonly program: string;
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly timeoutMs: number;
  private readonly pending: Pending[] = [];
  private buffer = '';
  private stderrTail = '';
  private nextId = 1;
  private dead: GtpClientError | null = null;
  private readonly exited: Promise<void>;

  constructor(command: string, args: readonly string[] = [], options: GtpClientOptions = {}) {
    this.program = [command, ...args].join(' ');
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => this.onData(chunk));
    this.proc.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    this.proc.stdin.on('error', () => {
      // EPIPE when the program died: reported through 'exit' / 'error'.
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (err) => {
        this.fail(new GtpClientError(`GTP program '${command}' could not be run: ${err.message}`));
        resolve();
      });
      this.proc.on('exit', (code, signal) => {
        const why = signal ? `signal ${signal}` : `exit code ${code}`;
        const tail = this.stderrTail.trim();
        this.fail(new GtpClientError(`GTP program '${this.program}' exited (${why})${tail ? `; stderr: ${tail.slice(-500)}` : ''}`));
        resolve();
      });
    });
  }

  /** True while the program is running and usable. */
  get alive(): boolean {
    return this.dead === null;
  }

  /** Sends one command; resolves with the response text after "=" (trimmed). */
  send(command: string, timeoutMs: number = this.timeoutMs): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    if (/[\r\n]/.test(command)) return Promise.reject(new GtpClientError(`GTP command must be one line, got ${JSON.stringify(command)}`));
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new GtpClientError(`GTP program '${this.program}' did not answer '${command}' within ${timeoutMs} ms`);
        this.fail(err);
        this.proc.kill('SIGKILL');
      }, timeoutMs);
      this.pending.push({ id, command, resolve, reject, timer });
      this.proc.stdin.write(`${id} ${command}\n`);
    });
  }

  /** Sends `quit` and waits for the program to exit (killing it if it takes more than `graceMs`). */
  async close(graceMs = 2000): Promise<void> {
    if (this.dead === null) {
      try {
        await this.send('quit', graceMs);
      } catch {
        // already gone, or not answering: killed below
      }
      this.proc.stdin.end();
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onData(chunk: string): void {
    this.buffer += chunk.replace(/\r/g, '');
    for (;;) {
      // A response is terminated by an empty line; skip stray leading newlines.
      this.buffer = this.buffer.replace(/^\n+/, '');
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.onResponse(block);
    }
  }

  private onResponse(block: string): void {
    const m = /^([=?])(\d*)(?: |\n|$)([\s\S]*)$/.exec(block);
    const p = this.pending.shift();
    if (!p) return; // unsolicited output: ignored
    clearTimeout(p.timer);
    if (!m) {
      p.reject(new GtpClientError(`GTP program '${this.program}' sent a malformed response to '${p.command}': ${JSON.stringify(block.slice(0, 200))}`));
      return;
    }
    if (m[2] !== '' && Number(m[2]) !== p.id) {
      p.reject(new GtpClientError(`GTP program '${this.program}' answered id ${m[2]} to command ${p.id} ('${p.command}')`));
      return;
    }
    const text = m[3]!.trim();
    if (m[1] === '=') p.resolve(text);
    else p.reject(new GtpCommandError(p.command, text));
  }

  private fail(err: GtpClientError): void {
    if (this.dead === null) this.dead = err;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
