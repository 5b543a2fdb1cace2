/**
 * NS16550A UART (QEMU virt: 0x1000_0000, PLIC source 10), registers at byte stride 1. Transmit is immediate (the
 * transmitter is always empty); received bytes queue in a 16-byte FIFO. Not modelled yet: interrupts (IER/IIR report
 * no interrupt pending), modem lines (read as idle), the scratch register keeps what is written. Interrupts and
 * FIFO control come with the virt board (issue 4).
 */
import type { MmioDevice } from "../mem/bus.ts";

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

const LSR_DR = 0x01;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LCR_DLAB = 0x80;
const FIFO_SIZE = 16;

export class Uart16550 implements MmioDevice {
  readonly name = "uart";
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private readonly rx: number[] = [];
  private readonly onOutput: (byte: number) => void;

  constructor(onOutput: (byte: number) => void) {
    this.onOutput = onOutput;
  }

  /** Queue a byte from the host for the guest to read; returns false (byte dropped) when the FIFO is full. */
  receive(byte: number): boolean {
    if (this.rx.length >= FIFO_SIZE) return false;
    this.rx.push(byte & 0xff);
    return true;
  }

  read(offset: number, _size: 1 | 2 | 4): number {
    switch (offset) {
      case RBR:
        if (this.lcr & LCR_DLAB) return this.dll;
        return this.rx.shift() ?? 0;
      case IER:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case IIR:
        return 0xc1; // FIFOs enabled, no interrupt pending
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
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
        if (this.lcr & LCR_DLAB) this.dll = v;
        else this.onOutput(v);
        break;
      case IER:
        if (this.lcr & LCR_DLAB) this.dlm = v;
        else this.ier = v & 0x0f;
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
        break; // FCR and read-only registers: writes ignored
    }
  }
}
