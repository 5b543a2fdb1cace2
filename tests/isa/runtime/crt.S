/*
 * Bare-metal runtime for the ISA tests: entry at 0x8000_0000, HTIF console and exit (spike/QEMU `-M spike`
 * protocol), PASS/FAIL checks, a register dump and a recording trap handler. Plain RV64I + Zicsr only (norvc), so a
 * broken M, A or C extension in the machine under test cannot break the reporting itself.
 */
#include "test.h"

  .option norvc

/* ---- entry ---------------------------------------------------------------------------------------------------- */
  .section .text.init, "ax", @progbits
  .global _start
_start:
  /* QEMU's reset vector leaves a0 = hartid and a1 = the FDT address; zero everything so both machines start equal. */
  li x1, 0
  li x2, 0
  li x3, 0
  li x4, 0
  li x5, 0
  li x6, 0
  li x7, 0
  li x8, 0
  li x9, 0
  li x10, 0
  li x11, 0
  li x12, 0
  li x13, 0
  li x14, 0
  li x15, 0
  li x16, 0
  li x17, 0
  li x18, 0
  li x19, 0
  li x20, 0
  li x21, 0
  li x22, 0
  li x23, 0
  li x24, 0
  li x25, 0
  li x26, 0
  li x27, 0
  li x28, 0
  li x29, 0
  li x30, 0
  li x31, 0
  la t0, trap_entry
  csrw mtvec, t0
  csrw mscratch, zero
  csrw mie, zero            /* no interrupt may fire, even when a test sets mstatus.MIE */
  la sp, _stack_top
  call main
  j htif_exit

/* ---- HTIF mailboxes ------------------------------------------------------------------------------------------- */
  .section .tohost, "aw", @progbits
  .align 6
  .global tohost
  .type tohost, @object
  .size tohost, 8
tohost: .dword 0
  .global fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost: .dword 0

/* ---- console -------------------------------------------------------------------------------------------------- */
  .text

/* htif_putchar(a0 = byte): device 1 (console), command 1 (putc); waits for and clears the reply. Clobbers t0, t1. */
  .global htif_putchar
htif_putchar:
  li t0, 0x0101000000000000
  andi t1, a0, 0xff
  or t0, t0, t1
  la t1, tohost
  sd t0, 0(t1)
  la t1, fromhost
1:
  ld t0, 0(t1)
  beqz t0, 1b
  sd zero, 0(t1)
  ret

/* htif_exit(a0 = code): device 0, command 0, payload (code << 1) | 1. Does not return. */
  .global htif_exit
htif_exit:
  slli a0, a0, 1
  ori a0, a0, 1
  la t1, tohost
  sd a0, 0(t1)
1:
  j 1b

/* puts(a0 = NUL-terminated string). Clobbers a0, t0-t2. */
  .global puts
puts:
  addi sp, sp, -16
  sd ra, 0(sp)
  sd s0, 8(sp)
  mv s0, a0
1:
  lbu a0, 0(s0)
  beqz a0, 2f
  call htif_putchar
  addi s0, s0, 1
  j 1b
2:
  ld ra, 0(sp)
  ld s0, 8(sp)
  addi sp, sp, 16
  ret

/* puthex(a0 = value): 16 lower-case hex digits. Clobbers a0, t0-t2. */
  .global puthex
puthex:
  addi sp, sp, -32
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  mv s0, a0
  li s1, 60
1:
  srl a0, s0, s1
  andi a0, a0, 15
  addi a0, a0, '0'
  li t2, '9'
  ble a0, t2, 2f
  addi a0, a0, 'a' - '9' - 1
2:
  call htif_putchar
  addi s1, s1, -4
  bgez s1, 1b
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  addi sp, sp, 32
  ret

/* putdec(a0 = value < 10^6): decimal without leading zeros, by repeated subtraction (no M extension). */
  .global putdec
putdec:
  addi sp, sp, -48
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  sd s2, 24(sp)
  mv s0, a0
  la s1, powers10
  li s2, 0                  /* printed a digit yet */
1:
  ld t0, 0(s1)
  beqz t0, 4f
  li a0, '0'
2:
  bltu s0, t0, 3f
  sub s0, s0, t0
  addi a0, a0, 1
  j 2b
3:
  addi s1, s1, 8
  li t1, '0'
  bne a0, t1, 5f
  bnez s2, 5f
  ld t1, 0(s1)
  bnez t1, 1b               /* suppress a leading zero unless it is the last digit */
5:
  li s2, 1
  call htif_putchar
  j 1b
4:
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  ld s2, 24(sp)
  addi sp, sp, 48
  ret

/* ---- checks --------------------------------------------------------------------------------------------------- */

/* Save/restore of ra and the registers the check routines use besides a0-a3 (which the macros save). */
.macro SAVE_TEMPS
  addi sp, sp, -144
  sd ra, 128(sp)
  sd t0, 0(sp)
  sd t1, 8(sp)
  sd t2, 16(sp)
  sd t3, 24(sp)
  sd t4, 32(sp)
  sd t5, 40(sp)
  sd t6, 48(sp)
  sd a4, 56(sp)
  sd a5, 64(sp)
  sd a6, 72(sp)
  sd a7, 80(sp)
  sd s0, 88(sp)
  sd s1, 96(sp)
  sd s2, 104(sp)
  sd s3, 112(sp)
  sd s4, 120(sp)
.endm
.macro RESTORE_TEMPS
  ld t0, 0(sp)
  ld t1, 8(sp)
  ld t2, 16(sp)
  ld t3, 24(sp)
  ld t4, 32(sp)
  ld t5, 40(sp)
  ld t6, 48(sp)
  ld a4, 56(sp)
  ld a5, 64(sp)
  ld a6, 72(sp)
  ld a7, 80(sp)
  ld s0, 88(sp)
  ld s1, 96(sp)
  ld s2, 104(sp)
  ld s3, 112(sp)
  ld s4, 120(sp)
  ld ra, 128(sp)
  addi sp, sp, 144
.endm

/* count_result(a0 = 1 if passed): bumps the pass or fail counter. Clobbers t0, t1. */
count_result:
  la t1, check_counts
  beqz a0, 1f
  ld t0, 0(t1)
  addi t0, t0, 1
  sd t0, 0(t1)
  ret
1:
  ld t0, 8(t1)
  addi t0, t0, 1
  sd t0, 8(t1)
  ret

/* check_eq(a0 = name, a1 = got, a2 = want): prints "ok NAME" or "FAIL NAME: got X want Y". */
  .global check_eq
check_eq:
  SAVE_TEMPS
  mv s0, a0
  mv s1, a1
  mv s2, a2
  bne s1, s2, 1f
  la a0, str_ok
  call puts
  mv a0, s0
  call puts
  li a0, '\n'
  call htif_putchar
  li a0, 1
  call count_result
  j 2f
1:
  la a0, str_fail
  call puts
  mv a0, s0
  call puts
  la a0, str_got
  call puts
  mv a0, s1
  call puthex
  la a0, str_want
  call puts
  mv a0, s2
  call puthex
  li a0, '\n'
  call htif_putchar
  li a0, 0
  call count_result
2:
  RESTORE_TEMPS
  ret

/* check_trap(a0 = name, a1 = mcause, a2 = mepc, a3 = mtval): exactly one trap since the last check, as described. */
  .global check_trap
check_trap:
  SAVE_TEMPS
  mv s0, a0
  la s4, trap_rec
  ld t0, TRAP_COUNT(s4)
  li t1, 1
  bne t0, t1, 1f
  ld t0, TRAP_MCAUSE(s4)
  bne t0, a1, 1f
  ld t0, TRAP_MEPC(s4)
  bne t0, a2, 1f
  ld t0, TRAP_MTVAL(s4)
  bne t0, a3, 1f
  la a0, str_ok
  call puts
  mv a0, s0
  call puts
  li a0, '\n'
  call htif_putchar
  li a0, 1
  call count_result
  j 2f
1:
  mv s1, a1
  mv s2, a2
  mv s3, a3
  la a0, str_fail
  call puts
  mv a0, s0
  call puts
  la a0, str_trap_got
  call puts
  ld a0, TRAP_COUNT(s4)
  call puthex
  la a0, str_mcause
  call puts
  ld a0, TRAP_MCAUSE(s4)
  call puthex
  la a0, str_mepc
  call puts
  ld a0, TRAP_MEPC(s4)
  call puthex
  la a0, str_mtval
  call puts
  ld a0, TRAP_MTVAL(s4)
  call puthex
  la a0, str_trap_want
  call puts
  mv a0, s1
  call puthex
  la a0, str_mepc
  call puts
  mv a0, s2
  call puthex
  la a0, str_mtval
  call puts
  mv a0, s3
  call puthex
  li a0, '\n'
  call htif_putchar
  li a0, 0
  call count_result
2:
  sd zero, TRAP_COUNT(s4)
  sd zero, TRAP_MCAUSE(s4)
  sd zero, TRAP_MEPC(s4)
  sd zero, TRAP_MTVAL(s4)
  RESTORE_TEMPS
  ret

/* test_summary() -> a0 = 0 if every check passed, else 1. Prints "summary: N ok, M failed". */
  .global test_summary
test_summary:
  addi sp, sp, -16
  sd ra, 0(sp)
  la a0, str_summary
  call puts
  la t0, check_counts
  ld a0, 0(t0)
  call putdec
  la a0, str_ok_comma
  call puts
  la t0, check_counts
  ld a0, 8(t0)
  call putdec
  la a0, str_failed
  call puts
  la t0, check_counts
  ld a0, 8(t0)
  snez a0, a0
  ld t0, 0(t0)
  bnez t0, 1f
  li a0, 1                  /* a test that checked nothing has failed too */
1:
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

/* ---- register dump -------------------------------------------------------------------------------------------- */

/*
 * dump_saved(a0 = label): prints "dump LABEL" and x1..x31 from the save area at sp (slot i = x_i, slot 0 free),
 * four per line, then reloads every register it touched from that area. See DUMP_REGS in test.h.
 */
  .global dump_saved
dump_saved:
  sd ra, 0(sp)
  mv s1, sp                 /* s1 = save area */
  mv s0, a0
  addi sp, sp, -16
  la a0, str_dump
  call puts
  mv a0, s0
  call puts
  li s2, 1                  /* register index */
  la s3, reg_names
1:
  addi t0, s2, -1
  andi t0, t0, 3
  li a0, '\n'
  bnez t0, 2f
  call htif_putchar
  j 3f
2:
  li a0, ' '
  call htif_putchar
3:
  mv a0, s3
  call puts
  li a0, '='
  call htif_putchar
  slli t0, s2, 3
  add t0, t0, s1
  ld a0, 0(t0)
  call puthex
  addi s2, s2, 1
  addi s3, s3, 4
  li t0, 32
  blt s2, t0, 1b
  li a0, '\n'
  call htif_putchar
  addi sp, sp, 16
  ld ra, 0(sp)
  ld x5, 40(sp)
  ld x6, 48(sp)
  ld x7, 56(sp)
  ld x8, 64(sp)
  ld x9, 72(sp)
  ld x10, 80(sp)
  ld x18, 144(sp)
  ld x19, 152(sp)
  ret

/* ---- trap handler --------------------------------------------------------------------------------------------- */

/*
 * Records mcause/mepc/mtval and counts traps, then resumes at trap_rec.resume if a test set it (one shot), else
 * after the trapping instruction (2 or 4 bytes, from its low bits). Interrupts and trap storms end the run.
 */
  .align 2
  .global trap_entry
trap_entry:
  addi sp, sp, -32
  sd t0, 0(sp)
  sd t1, 8(sp)
  sd t2, 16(sp)
  la t1, trap_rec
  csrr t0, mcause
  sd t0, TRAP_MCAUSE(t1)
  bltz t0, trap_fatal
  csrr t0, mepc
  sd t0, TRAP_MEPC(t1)
  csrr t0, mtval
  sd t0, TRAP_MTVAL(t1)
  csrr t0, mstatus
  sd t0, TRAP_MSTATUS(t1)
  ld t0, TRAP_COUNT(t1)
  addi t0, t0, 1
  sd t0, TRAP_COUNT(t1)
  li t2, 64
  bgeu t0, t2, trap_fatal
  ld t0, TRAP_RESUME(t1)
  sd zero, TRAP_RESUME(t1)
  bnez t0, 2f
  ld t2, TRAP_MCAUSE(t1)
  li t0, 2
  bltu t2, t0, trap_fatal   /* instruction fetch faults without a resume address: nothing to skip to */
  csrr t0, mepc
  lhu t2, 0(t0)
  andi t2, t2, 3
  addi t0, t0, 2
  li t1, 3
  bne t2, t1, 2f
  addi t0, t0, 2
2:
  csrw mepc, t0
  ld t0, 0(sp)
  ld t1, 8(sp)
  ld t2, 16(sp)
  addi sp, sp, 32
  mret

trap_fatal:
  la sp, _stack_top
  la a0, str_fatal
  call puts
  csrr a0, mcause
  call puthex
  la a0, str_mepc
  call puts
  csrr a0, mepc
  call puthex
  la a0, str_mtval
  call puts
  csrr a0, mtval
  call puthex
  li a0, '\n'
  call htif_putchar
  li a0, 3
  j htif_exit

/* ---- data ----------------------------------------------------------------------------------------------------- */
  .data
  .align 3
powers10: .dword 100000, 10000, 1000, 100, 10, 1, 0
  .global check_counts
check_counts: .dword 0, 0   /* passed, failed */
  .global trap_rec
trap_rec: .dword 0, 0, 0, 0, 0, 0   /* see TRAP_* in test.h */
reg_names:
  .asciz "ra "
  .asciz "sp "
  .asciz "gp "
  .asciz "tp "
  .asciz "t0 "
  .asciz "t1 "
  .asciz "t2 "
  .asciz "s0 "
  .asciz "s1 "
  .asciz "a0 "
  .asciz "a1 "
  .asciz "a2 "
  .asciz "a3 "
  .asciz "a4 "
  .asciz "a5 "
  .asciz "a6 "
  .asciz "a7 "
  .asciz "s2 "
  .asciz "s3 "
  .asciz "s4 "
  .asciz "s5 "
  .asciz "s6 "
  .asciz "s7 "
  .asciz "s8 "
  .asciz "s9 "
  .asciz "s10"
  .asciz "s11"
  .asciz "t3 "
  .asciz "t4 "
  .asciz "t5 "
  .asciz "t6 "
str_ok: .asciz "ok "
str_fail: .asciz "FAIL "
str_got: .asciz ": got "
str_want: .asciz " want "
str_trap_got: .asciz ": traps "
str_trap_want: .asciz "; want mcause "
str_mcause: .asciz " mcause "
str_mepc: .asciz " mepc "
str_mtval: .asciz " mtval "
str_summary: .asciz "summary: "
str_ok_comma: .asciz " ok, "
str_failed: .asciz " failed\n"
str_dump: .asciz "dump "
str_fatal: .asciz "FATAL unexpected trap: mcause "
