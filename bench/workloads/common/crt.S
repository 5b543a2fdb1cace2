# Bare-metal M-mode start-up for the benchmark workloads: entry at 0x8000_0000 (the ELF entry), a stack from the
# linker script, .bss cleared, every trap routed to bench_trap (which reports mcause/mepc and exits with code 2).
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, __stack_top
  la t0, trap_entry
  csrw mtvec, t0
  # mstatus.FS = Initial: floating point is off at reset (the FP workloads need it; the others never notice).
  li t0, 1 << 13
  csrs mstatus, t0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  call bench_main
3:
  j 3b

  .balign 4
trap_entry:
  la sp, __stack_top
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call bench_trap
4:
  j 4b

# memset/memcpy: GCC may emit calls to them even with -nostdlib (struct copies, zeroing loops).
  .text
  .globl memset
memset:
  mv t0, a0
  beqz a2, 2f
1:
  sb a1, 0(t0)
  addi t0, t0, 1
  addi a2, a2, -1
  bnez a2, 1b
2:
  ret

  .globl memcpy
memcpy:
  mv t0, a0
  beqz a2, 2f
1:
  lbu t1, 0(a1)
  sb t1, 0(t0)
  addi a1, a1, 1
  addi t0, t0, 1
  addi a2, a2, -1
  bnez a2, 1b
2:
  ret
