/**
 * The physical address space outside RAM: MMIO devices mapped at half-open ranges [base, base + size), checked for
 * overlap when mapped (STYLE.md rule 3). RAM itself is accessed directly by the interpreter; the bus is the slow path.
 */

/**
 * A memory-mapped device. Offsets are relative to the device's base; sizes are 1, 2 or 4 bytes (the bus splits
 * 8-byte accesses into two 4-byte ones, low half first, as QEMU does for devices with a 4-byte maximum access size).
 * Values are unsigned. A device must never throw for anything a guest does.
 */
export interface MmioDevice {
  readonly name: string;
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
}

/** Host error: a machine was built with overlapping or invalid mappings. */
export class BusError extends Error {
  readonly code = "BUS_OVERLAP";
  constructor(message: string) {
    super(message);
    this.name = "BusError";
  }
}

interface Mapping {
  readonly base: number;
  readonly end: number;
  readonly device: MmioDevice;
}

export class Bus {
  private readonly maps: Mapping[] = [];

  /** Map `device` at [base, base + size). Throws BusError if the range overlaps another mapping. */
  map(base: number, size: number, device: MmioDevice): void {
    if (!(size > 0) || base < 0 || !Number.isSafeInteger(base + size)) {
      throw new BusError(`invalid range for ${device.name}: base ${hex(base)} size ${hex(size)}`);
    }
    const end = base + size;
    for (const m of this.maps) {
      if (base < m.end && m.base < end) {
        throw new BusError(
          `${device.name} at [${hex(base)}, ${hex(end)}) overlaps ${m.device.name} at [${hex(m.base)}, ${hex(m.end)})`,
        );
      }
    }
    this.maps.push({ base, end, device });
    this.maps.sort((a, b) => a.base - b.base);
  }

  /** The mapping containing [addr, addr + size), or undefined (an access fault for the guest). */
  find(addr: number, size: number): Mapping | undefined {
    for (const m of this.maps) if (addr >= m.base && addr + size <= m.end) return m;
    return undefined;
  }

  /** Read `size` (1, 2, 4) bytes; returns -1 when nothing is mapped there. */
  read(addr: number, size: 1 | 2 | 4): number {
    const m = this.find(addr, size);
    if (m === undefined) return -1;
    return m.device.read(addr - m.base, size) >>> 0;
  }

  /** Write `size` (1, 2, 4) bytes; returns false when nothing is mapped there. */
  write(addr: number, size: 1 | 2 | 4, value: number): boolean {
    const m = this.find(addr, size);
    if (m === undefined) return false;
    m.device.write(addr - m.base, size, value >>> 0);
    return true;
  }
}

export const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
