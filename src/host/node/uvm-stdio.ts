/**
 * The host's stdin, stdout and stderr for the process VM (`popek exec`): output written synchronously (so it
 * interleaves with the guest's order and survives an abrupt end), input read from process.stdin as it arrives (only
 * once the guest first reads it), a terminal's size, and raw mode when the guest turns ICANON off (an interactive
 * `busybox sh`). `close()` restores the terminal.
 */
import { writeSync } from "node:fs";
import { isatty } from "node:tty";
import type { StdioHost } from "../../core/uvm/files.ts";

export class NodeStdio implements StdioHost {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private listening = false;
  private raw = false;
  private readonly listeners: (() => void)[] = [];
  private readonly input: NodeJS.ReadStream;
  private readonly tty: boolean[];

  constructor(input: NodeJS.ReadStream = process.stdin) {
    this.input = input;
    this.tty = [isatty(0), isatty(1), isatty(2)];
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.input.on("data", (chunk: Buffer | string) => {
      this.chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
      for (const l of this.listeners) l();
    });
    const end = () => {
      this.ended = true;
      for (const l of this.listeners) l();
    };
    this.input.on("end", end);
    this.input.on("error", end);
    this.input.resume();
  }

  readStdin(max: number): Uint8Array | null {
    this.listen();
    if (this.chunks.length === 0) return this.ended ? new Uint8Array(0) : null;
    if (max === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    if (first.length <= max) {
      this.chunks.shift();
      return first;
    }
    this.chunks[0] = first.subarray(max);
    return first.subarray(0, max);
  }

  /** Bytes written, or -EPIPE (32) once the reader has gone (`popek exec yes | head`). */
  write(fd: number, data: Uint8Array): number {
    let done = 0;
    while (done < data.length) {
      try {
        done += writeSync(fd, data, done, data.length - done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") continue;
        if (code === "EPIPE") return -32;
        throw e;
      }
    }
    return done;
  }

  isatty(fd: number): boolean {
    return this.tty[fd] ?? false;
  }

  winsize(): { rows: number; cols: number } | null {
    if (!this.tty[1]) return null;
    return { rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 };
  }

  setRaw(raw: boolean): void {
    if (this.input.isTTY && this.raw !== raw) {
      this.input.setRawMode(raw);
      this.raw = raw;
    }
  }

  onInput(cb: () => void): void {
    this.listeners.push(cb);
  }

  inputEnded(): boolean {
    return this.ended;
  }

  /** Stop reading and give the terminal back in its normal mode. */
  close(): void {
    if (this.raw && this.input.isTTY) this.input.setRawMode(false);
    this.raw = false;
    if (this.listening) this.input.pause();
    this.input.unref?.();
  }
}
