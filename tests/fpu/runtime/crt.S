/*
 * Bare-metal runtime of the FPU differential programs: entry at 0x8000_0000 in M-mode, mstatus.FS = Initial, a trap
 * handler that reports and exits with code 3, the HTIF console and exit of spike / QEMU -M spike, and the printer of
 * the result area. Plain RV64I + Zicsr + F/D (norvc): the program must run unchanged on QEMU and popek.
 *
 * Result record (16 bytes): the destination register's 64 bits, then fflags (one dword). Printed one per line as
 * <flags as one base-32 digit 0-9a-v><value>, where value is "S" + the low word in hex when the high word is
 * 0xffffffff (a NaN-boxed single or a negative W result), else the 64 bits in hex, both without leading zeros.
 */
  .option norvc

  .section .text.init, "ax", @progbits
  .global _start
_start:
  la sp, _stack_top
  la t0, trap_entry
  csrw mtvec, t0
  csrw mie, zero
  li t0, 0x2000             /* mstatus.FS = Initial: FP instructions are legal */
  csrs mstatus, t0
  fscsr zero
  call main
  j htif_exit

/* ---- HTIF --------------------------------------------------------------------------------------------------- */
  .section .tohost, "aw", @progbits
  .align 6
  .global tohost
  .type tohost, @object
  .size tohost, 8
tohost: .dword 0
  .align 6
  .global fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost: .dword 0

  .text
/* putc(a0 = byte): device 1, command 1; waits for the answer. Clobbers t5, t6. */
  .global putc
putc:
  li t5, 0x0101000000000000
  andi t6, a0, 0xff
  or t5, t5, t6
  la t6, tohost
  sd t5, 0(t6)
  la t6, fromhost
1:
  ld t5, 0(t6)
  beqz t5, 1b
  sd zero, 0(t6)
  ret

/* htif_exit(a0 = code). Does not return. */
  .global htif_exit
htif_exit:
  slli a0, a0, 1
  ori a0, a0, 1
  la t6, tohost
  sd a0, 0(t6)
1:
  j 1b

/* puts(a0 = NUL-terminated string). Clobbers a0, t4-t6. */
  .global puts
puts:
  mv t4, ra
  mv t3, a0
1:
  lbu a0, 0(t3)
  beqz a0, 2f
  call putc
  addi t3, t3, 1
  j 1b
2:
  mv ra, t4
  ret

/* puthex(a0 = value, a1 = minimum digits): lower-case hex without leading zeros. Clobbers a0, a2, a3, t2-t6. */
  .global puthex
puthex:
  mv t4, ra
  mv t2, a0
  li a2, 60                 /* shift of the current digit */
  slli a3, a1, 2            /* print every digit at shift < 4·min */
1:
  srl a0, t2, a2
  andi a0, a0, 15
  bnez a0, 2f
  bge a2, a3, 4f            /* leading zero: skip */
2:
  li a3, 64                 /* from here on print every digit */
  addi a0, a0, '0'
  li t3, '9'
  ble a0, t3, 3f
  addi a0, a0, 'a' - '9' - 1
3:
  call putc
4:
  addi a2, a2, -4
  bgez a2, 1b
  mv ra, t4
  ret

/* print_results(a0 = area, a1 = count): one line per 16-byte record, format above. */
  .global print_results
print_results:
  addi sp, sp, -32
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  mv s0, a0
  mv s1, a1
1:
  beqz s1, 3f
  ld a0, 8(s0)              /* flags: one base-32 digit */
  addi a0, a0, '0'
  li t0, '9'
  ble a0, t0, 2f
  addi a0, a0, 'a' - '9' - 1
2:
  call putc
  ld t0, 0(s0)
  srai t1, t0, 32
  li t2, -1
  bne t1, t2, 4f
  li a0, 'S'
  call putc
  ld a0, 0(s0)
  slli a0, a0, 32
  srli a0, a0, 32
  j 5f
4:
  ld a0, 0(s0)
5:
  li a1, 1
  call puthex
  li a0, '\n'
  call putc
  addi s0, s0, 16
  addi s1, s1, -1
  j 1b
3:
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  addi sp, sp, 32
  ret

/* ---- traps: none are expected ------------------------------------------------------------------------------- */
  .align 2
trap_entry:
  la a0, str_trap
  call puts
  csrr a0, mcause
  li a1, 1
  call puthex
  li a0, ' '
  call putc
  csrr a0, mepc
  li a1, 1
  call puthex
  li a0, ' '
  call putc
  csrr a0, mtval
  li a1, 1
  call puthex
  li a0, '\n'
  call putc
  li a0, 3
  j htif_exit

  .section .rodata
str_trap: .asciz "TRAP mcause/mepc/mtval "
