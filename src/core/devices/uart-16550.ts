/**
 * NS16550A UART (QEMU virt: 0x1000_0000, PLIC source 10), registers at byte stride 1, after QEMU 7.2's
 * hw/char/serial.c. Transmit is immediate (the transmitter is always empty); received bytes queue in a 16-byte FIFO.
 * Interrupts (IER/IIR): receiver line status, received data (at the FIFO trigger level; below it the character
 * timeout is reported at once instead of after 4 character times) and THR empty, on one level-triggered line.
 * Not modelled: modem-status interrupts and lines (read as idle), loopback, break and line errors.
 * `listening` tells the machine whether a guest driver is reading input yet, so that host input typed or piped
 * early is held back instead of being lost to the FIFO clears of a driver starting up.
 */
import type { MmioDevice } from "../mem/bus.ts";
import { type IrqLine, NO_IRQ } from "../mem/irq.ts";

/** Receiver buffer (read) / transmitter holding register (write); divisor latch low when LCR.DLAB. */
const RBR = 0;
/** Interrupt enable; divisor latch high when LCR.DLAB. */
const IER = 1;
/** Interrupt identification (read) / FIFO control (write). */
const IIR = 2;
/** Line control; bit 7 is DLAB. */
const LCR = 3;
/** Modem control. */
const MCR = 4;
/** Line status. */
const LSR = 5;
/** Modem status. */
const MSR = 6;
/** Scratch. */
const SCR = 7;

/** IER: received data available, THR empty. */
const IER_RDI = 0x01;
const IER_THRI = 0x02;
/** IIR interrupt identifications (bits 3:0); bits 7:6 are set while the FIFOs are enabled. */
const IIR_NO_INT = 0x01;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_CTI = 0x0c;
const IIR_FIFO = 0xc0;
/** FCR: enable FIFOs, clear receive FIFO, clear transmit FIFO; bits 7:6 the receive trigger level. */
const FCR_FE = 0x01;
const FCR_RFR = 0x02;
const LSR_DR = 0x01;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LCR_DLAB = 0x80;
/** Receive FIFO depth. */
export const UART_FIFO_SIZE = 16;
/** Receive trigger levels selected by FCR bits 7:6. */
const TRIGGER = [1, 4, 8, 14] as const;
/** LSR reads in a row, with the FIFO empty and no transmit in between, that mark a guest polling for input. */
const POLLING = 16;

export class Uart16550 implements MmioDevice {
  readonly name = "uart";
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private fcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  /** THR-empty interrupt pending (QEMU's thr_ipending): set when THR empties or THRI is enabled, cleared by an IIR read. */
  private thrPending = false;
  private level = false;
  /** LSR reads in a row that found no data and were not part of transmitting (a polled-mode reader waits). */
  private emptyPolls = 0;
  private readonly rx: number[] = [];
  private readonly onOutput: (byte: number) => void;
  private readonly irq: IrqLine;

  constructor(onOutput: (byte: number) => void, irq: IrqLine = NO_IRQ) {
    this.onOutput = onOutput;
    this.irq = irq;
  }

  /** Queue a byte from the host for the guest to read; returns false (byte dropped) when the FIFO is full. */
  receive(byte: number): boolean {
    if (this.rx.length >= UART_FIFO_SIZE) return false;
    this.rx.push(byte & 0xff);
    this.update();
    return true;
  }

  /** Bytes the receive FIFO can still take. */
  rxSpace(): number {
    return UART_FIFO_SIZE - this.rx.length;
  }

  /**
   * Whether the guest reads input now: its receive interrupt is enabled (Linux's 8250 driver while the tty is
   * open), or it polls LSR for data (firmware, boot loaders: many LSR reads in a row with no transmit between).
   */
  get listening(): boolean {
    return (this.ier & IER_RDI) !== 0 || this.emptyPolls >= POLLING;
  }

  /** Power-on state (QEMU's serial_reset); the FIFO is emptied. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.fcr = 0;
    this.scr = 0;
    this.dll = 0;
    this.dlm = 0;
    this.thrPending = false;
    this.emptyPolls = 0;
    this.rx.length = 0;
    this.update();
  }

  read(offset: number, _size: 1 | 2 | 4): number {
    switch (offset) {
      case RBR: {
        if (this.lcr & LCR_DLAB) return this.dll;
        const b = this.rx.shift() ?? 0;
        this.update();
        return b;
      }
      case IER:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case IIR: {
        const id = this.interruptId();
        // Reading IIR while it reports THR empty clears that interrupt.
        if (id === IIR_THRI) {
          this.thrPending = false;
          this.update();
        }
        return id | (this.fcr & FCR_FE ? IIR_FIFO : 0);
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        if (this.rx.length === 0) this.emptyPolls++;
        return LSR_THRE | LSR_TEMT | (this.rx.length > 0 ? LSR_DR : 0);
      case MSR:
        return 0xb0; // DCD, DSR, CTS asserted: an idle, connected line
      case SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    switch (offset) {
      case RBR:
        if (this.lcr & LCR_DLAB) {
          this.dll = v;
        } else {
          this.onOutput(v);
          this.emptyPolls = 0;
          // The byte leaves at once, so THR is empty again: the interrupt re-arms (QEMU after its transmit).
          this.thrPending = true;
          this.update();
        }
        break;
      case IER:
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
        } else {
          const changed = (this.ier ^ v) & IER_THRI;
          this.ier = v & 0x0f;
          // Enabling THRI while THR is empty raises the interrupt (serial.c; Linux's THRE test relies on it).
          if (changed !== 0 && (this.ier & IER_THRI) !== 0) this.thrPending = true;
          this.update();
        }
        break;
      case IIR: // FCR
        if (v & FCR_RFR) this.rx.length = 0;
        this.fcr = v & 0xc9;
        this.update();
        break;
      case LCR:
        this.lcr = v;
        break;
      case MCR:
        this.mcr = v & 0x1f;
        break;
      case SCR:
        this.scr = v;
        break;
      default:
        break; // read-only registers: writes ignored
    }
  }

  /** The highest-priority pending interrupt (serial_update_irq's order). */
  private interruptId(): number {
    const ier = this.ier;
    // Receiver line status (IIR 0x06) would come first, but no line error or break is ever signalled.
    if (ier & IER_RDI && this.rx.length > 0) {
      const fifo = (this.fcr & FCR_FE) !== 0;
      return !fifo || this.rx.length >= TRIGGER[this.fcr >>> 6]! ? IIR_RDI : IIR_CTI;
    }
    if (ier & IER_THRI && this.thrPending) return IIR_THRI;
    return IIR_NO_INT;
  }

  private update(): void {
    const level = this.interruptId() !== IIR_NO_INT;
    if (level !== this.level) {
      this.level = level;
      this.irq.set(level);
    }
  }
}
