/*
 * Runtime for the privileged-architecture tests (see priv.h for the model): M and S trap handlers (direct and
 * vectored), run_in, page-table building, PMP and CLINT helpers, and load/store/fetch probes. Linked after the ISA
 * runtime (tests/isa/runtime/crt.S), whose checks and console it uses. RV64I + Zicsr only, no RVC.
 */
#include "priv.h"

  .option norvc
  .text

/* ---- setup ---------------------------------------------------------------------------------------------------- */

/*
 * priv_init(): mtvec = m_trap, stvec = s_trap, no delegation, no interrupt enabled, satp = Bare, PMP entry 0 =
 * NAPOT over everything with RWX (so that S and U may run: with no PMP entry matching, S/U accesses fail).
 */
  .global priv_init
priv_init:
  la t0, m_trap
  csrw mtvec, t0
  la t0, s_trap
  csrw stvec, t0
  csrw medeleg, zero
  csrw mideleg, zero
  csrw mie, zero
  csrw satp, zero
  csrw mcounteren, zero
  csrw scounteren, zero
  li t0, CLINT_MSIP         /* CLINT: msip = 0, mtimecmp = -1 (MTIP low; QEMU raises it at reset) */
  sw zero, 0(t0)
  li t0, CLINT_MTIMECMP
  li t1, -1
  sd t1, 0(t0)
  j pmp_open

/* pmp_open(): PMP entry 0 = NAPOT over the whole address space, RWX; entries 1-7 off. Clobbers t0. */
  .global pmp_open
pmp_open:
  li t0, -1
  srli t0, t0, 10
  csrw pmpaddr0, t0
  li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
  csrw pmpcfg0, t0
  ret

/* clear_recs(): zero m_rec and s_rec (count, cause, epc, tval, status; not RESUME or VEC). Clobbers t6. */
  .global clear_recs
clear_recs:
  la t6, m_rec
  sd zero, REC_CAUSE(t6)
  sd zero, REC_EPC(t6)
  sd zero, REC_TVAL(t6)
  sd zero, REC_STATUS(t6)
  sd zero, REC_COUNT(t6)
  la t6, s_rec
  sd zero, REC_CAUSE(t6)
  sd zero, REC_EPC(t6)
  sd zero, REC_TVAL(t6)
  sd zero, REC_STATUS(t6)
  sd zero, REC_COUNT(t6)
  ret

/* SAVE_M_CTX: save what m_trap restores on the way back from a snippet (ra, sp, gp, tp, s0-s11). Clobbers t0. */
.macro SAVE_M_CTX
  la t0, m_ctx
  sd ra, 0(t0)
  sd sp, 8(t0)
  sd gp, 16(t0)
  sd tp, 24(t0)
  sd s0, 32(t0)
  sd s1, 40(t0)
  sd s2, 48(t0)
  sd s3, 56(t0)
  sd s4, 64(t0)
  sd s5, 72(t0)
  sd s6, 80(t0)
  sd s7, 88(t0)
  sd s8, 96(t0)
  sd s9, 104(t0)
  sd s10, 112(t0)
  sd s11, 120(t0)
  mv t0, ra
  call clear_recs
  mv ra, t0
.endm

/*
 * run_in(a0 = mode, a1 = entry): clear the trap records, set mstatus.MPP = mode (other mstatus fields as the caller
 * left them) and mret to entry. Returns, with a0 = mcause, when a trap reaches M from S or U (m_trap). a2-a7 reach
 * the snippet unchanged. Callee-saved registers, ra, sp, gp and tp are preserved; the others are not.
 */
  .global run_in
run_in:
  SAVE_M_CTX
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  slli t0, a0, 11
  csrs mstatus, t0
  csrw mepc, a1
  mret

/* sret_in(a0 = mode U/S, a1 = entry): as run_in, but enters through sret from M (sstatus.SPP = mode, sepc). */
  .global sret_in
sret_in:
  SAVE_M_CTX
  li t0, MSTATUS_SPP
  csrc mstatus, t0
  slli t0, a0, 8
  csrs mstatus, t0
  csrw sepc, a1
  sret

/* ---- M-mode trap handler -------------------------------------------------------------------------------------- */

/*
 * m_trap: save x1-x31 in m_regs, record mcause/mepc/mtval/mstatus in m_rec, count. Interrupts are logged in irq_log
 * and their source is cleared (SSIP/STIP/SEIP in mip, CLINT msip, mtimecmp = -1, stimecmp = -1 under Sstc). From
 * S/U: return from run_in. From M: clear MPRV, resume (RESUME, else next instruction; interrupts at mepc).
 */
  .balign 256
  .global m_trap
m_trap:
  csrw mscratch, t0
  la t0, m_regs
  sd x1, 8(t0)
  sd x2, 16(t0)
  sd x3, 24(t0)
  sd x4, 32(t0)
  sd x6, 48(t0)
  sd x7, 56(t0)
  sd x8, 64(t0)
  sd x9, 72(t0)
  sd x10, 80(t0)
  sd x11, 88(t0)
  sd x12, 96(t0)
  sd x13, 104(t0)
  sd x14, 112(t0)
  sd x15, 120(t0)
  sd x16, 128(t0)
  sd x17, 136(t0)
  sd x18, 144(t0)
  sd x19, 152(t0)
  sd x20, 160(t0)
  sd x21, 168(t0)
  sd x22, 176(t0)
  sd x23, 184(t0)
  sd x24, 192(t0)
  sd x25, 200(t0)
  sd x26, 208(t0)
  sd x27, 216(t0)
  sd x28, 224(t0)
  sd x29, 232(t0)
  sd x30, 240(t0)
  sd x31, 248(t0)
  csrr t1, mscratch
  sd t1, 40(t0)
  la t1, m_rec
  csrr t2, mcause
  sd t2, REC_CAUSE(t1)
  csrr t2, mepc
  sd t2, REC_EPC(t1)
  csrr t2, mtval
  sd t2, REC_TVAL(t1)
  csrr t2, mstatus
  sd t2, REC_STATUS(t1)
  ld t2, REC_COUNT(t1)
  addi t2, t2, 1
  sd t2, REC_COUNT(t1)
  li t3, 64
  bgeu t2, t3, m_fatal
  csrr t2, mcause
  bgez t2, .Lm_where
  /* interrupt: log the cause, then clear its source */
  slli t2, t2, 1
  srli t2, t2, 1
  la t3, irq_log
  ld t4, 0(t3)
  li t5, 16
  bgeu t4, t5, 1f
  slli t5, t4, 3
  add t5, t5, t3
  sd t2, 8(t5)
  addi t4, t4, 1
  sd t4, 0(t3)
1:
  li t3, IRQ_S
  bne t2, t3, 2f
  li t3, MIP_SSIP
  csrc mip, t3
  j .Lm_where
2:
  li t3, IRQ_M
  bne t2, t3, 3f
  li t3, CLINT_MSIP
  sw zero, 0(t3)
  j .Lm_where
3:
  li t3, IRQ_STI
  bne t2, t3, 4f
  li t3, MIP_STIP
  csrc mip, t3
  csrr t3, CSR_MENVCFG
  bgez t3, .Lm_where
  li t3, -1
  csrw CSR_STIMECMP, t3
  j .Lm_where
4:
  li t3, IRQ_MTI
  bne t2, t3, 5f
  li t3, CLINT_MTIMECMP
  li t4, -1
  sd t4, 0(t3)
  j .Lm_where
5:
  li t3, IRQ_SEI
  bne t2, t3, 6f
  li t3, MIP_SEIP
  csrc mip, t3
  j .Lm_where
6:
  csrw mie, zero            /* anything else: stop all interrupts rather than loop */
.Lm_where:
  csrr t2, mstatus
  srli t2, t2, 11
  andi t2, t2, 3
  li t3, PRV_M
  beq t2, t3, .Lm_from_m
  /* from S or U: return from run_in */
  la t0, m_ctx
  ld ra, 0(t0)
  ld sp, 8(t0)
  ld gp, 16(t0)
  ld tp, 24(t0)
  ld s0, 32(t0)
  ld s1, 40(t0)
  ld s2, 48(t0)
  ld s3, 56(t0)
  ld s4, 64(t0)
  ld s5, 72(t0)
  ld s6, 80(t0)
  ld s7, 88(t0)
  ld s8, 96(t0)
  ld s9, 104(t0)
  ld s10, 112(t0)
  ld s11, 120(t0)
  csrr a0, mcause
  ret
.Lm_from_m:
  li t2, MSTATUS_MPRV
  csrc mstatus, t2
  ld t2, REC_RESUME(t1)
  sd zero, REC_RESUME(t1)
  bnez t2, 3f
  csrr t2, mcause
  bltz t2, 4f               /* interrupt: resume at the interrupted instruction */
  li t3, 2
  bltu t2, t3, m_fatal      /* instruction fetch faults without a resume address */
  li t3, CAUSE_FETCH_PAGE_FAULT
  beq t2, t3, m_fatal
  csrr t2, mepc
  lhu t3, 0(t2)
  andi t3, t3, 3
  addi t2, t2, 2
  li t4, 3
  bne t3, t4, 3f
  addi t2, t2, 2
3:
  csrw mepc, t2
4:
  la t0, m_regs
  ld x1, 8(t0)
  ld x2, 16(t0)
  ld x3, 24(t0)
  ld x4, 32(t0)
  ld x6, 48(t0)
  ld x7, 56(t0)
  ld x8, 64(t0)
  ld x9, 72(t0)
  ld x10, 80(t0)
  ld x11, 88(t0)
  ld x12, 96(t0)
  ld x13, 104(t0)
  ld x14, 112(t0)
  ld x15, 120(t0)
  ld x16, 128(t0)
  ld x17, 136(t0)
  ld x18, 144(t0)
  ld x19, 152(t0)
  ld x20, 160(t0)
  ld x21, 168(t0)
  ld x22, 176(t0)
  ld x23, 184(t0)
  ld x24, 192(t0)
  ld x25, 200(t0)
  ld x26, 208(t0)
  ld x27, 216(t0)
  ld x28, 224(t0)
  ld x29, 232(t0)
  ld x30, 240(t0)
  ld x31, 248(t0)
  ld x5, 40(t0)
  mret

  .global m_fatal
m_fatal:
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
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

/* Vectored M table (mtvec = m_vec | 1): entry n records n in m_rec.VEC and goes on to m_trap. */
  .balign 256
  .global m_vec
m_vec:
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  j m_vec_\n
  .endr
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
m_vec_\n:
  csrw mscratch, t0
  la t0, m_rec
  sd t1, 56(t0)
  li t1, \n
  sd t1, REC_VEC(t0)
  ld t1, 56(t0)
  csrr t0, mscratch
  j m_trap
  .endr

/* ---- S-mode trap handler -------------------------------------------------------------------------------------- */

/*
 * s_trap: record scause/sepc/stval/sstatus in s_rec and count; then ecall to M with every register as it was at the
 * trap, or with s_exit_via_u set, sret to a U-mode ecall (for tests that delegate ecall from S).
 */
  .balign 256
  .global s_trap
s_trap:
  csrw sscratch, t0
  la t0, s_rec
  sd t1, 56(t0)
  csrr t1, scause
  sd t1, REC_CAUSE(t0)
  csrr t1, sepc
  sd t1, REC_EPC(t0)
  csrr t1, stval
  sd t1, REC_TVAL(t0)
  csrr t1, sstatus
  sd t1, REC_STATUS(t0)
  ld t1, REC_COUNT(t0)
  addi t1, t1, 1
  sd t1, REC_COUNT(t0)
  la t1, s_exit_via_u
  ld t1, 0(t1)
  bnez t1, 1f
  ld t1, 56(t0)
  csrr t0, sscratch
  .global s_trap_ecall
s_trap_ecall:
  ecall
1:
  li t1, MSTATUS_SPP
  csrc sstatus, t1
  la t1, u_ecall_stub
  csrw sepc, t1
  ld t1, 56(t0)
  csrr t0, sscratch
  sret
  .global u_ecall_stub
u_ecall_stub:
  ecall

/* Vectored S table (stvec = s_vec | 1): entry n records n in s_rec.VEC and goes on to s_trap. */
  .balign 256
  .global s_vec
s_vec:
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  j s_vec_\n
  .endr
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
s_vec_\n:
  csrw sscratch, t0
  la t0, s_rec
  sd t1, 56(t0)
  li t1, \n
  sd t1, REC_VEC(t0)
  ld t1, 56(t0)
  csrr t0, sscratch
  j s_trap
  .endr

/* ---- probes --------------------------------------------------------------------------------------------------- */

/*
 * probe(a0 = mode, a1 = kind: 0 load (ld a0, 8(va)), 1 store (sd a3, 16(va)), 2 fetch (jr va), a2 = va): run the
 * probe snippet in `mode` (in U through u_code_off, the offset of a U-accessible alias of this code). Returns a0 =
 * mcause (ecall from `mode` on success), a1 = mtval, a2 = the snippet's a0 (the loaded value, else PROBE_POISON),
 * a3 = mepc. No sfence.vma: callers flush when they changed page tables.
 */
  .global probe
probe:
  addi sp, sp, -16
  sd ra, 0(sp)
  la t0, probe_snippets
  slli a1, a1, 4
  add a1, a1, t0
  bnez a0, 1f
  la t0, u_code_off
  ld t0, 0(t0)
  add a1, a1, t0
1:
  li a3, PROBE_STORE_VALUE
  li t0, PROBE_POISON
  mv a4, t0
  call run_in
  la t0, m_rec
  ld a1, REC_TVAL(t0)
  ld a3, REC_EPC(t0)
  SNAP a2, 10
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

  .balign 16
  .global probe_snippets
probe_snippets:
  mv a0, a4                 /* a0 = poison unless the load happens */
  ld a0, 8(a2)
  ecall
  nop
  sd a3, 16(a2)
  ecall
  nop
  nop
  jr a2
  nop
  nop
  nop

/* ---- page tables ---------------------------------------------------------------------------------------------- */

/* pt_reset(): forget every page table (the pool starts again). Clobbers t0, t1. */
  .global pt_reset
pt_reset:
  la t0, pt_next
  la t1, pt_pool
  sd t1, 0(t0)
  ret

/* pt_alloc() -> a0 = a zeroed 4 KiB page from the pool. Clobbers t0, t1. */
  .global pt_alloc
pt_alloc:
  la t0, pt_next
  ld a0, 0(t0)
  li t1, 4096
  add t1, t1, a0
  sd t1, 0(t0)
  la t0, pt_pool_end
  bgtu t1, t0, m_fatal
  mv t0, a0
1:
  sd zero, 0(t0)
  addi t0, t0, 8
  bltu t0, t1, 1b
  ret

/*
 * pt_map(a0 = root, a1 = va, a2 = pa, a3 = PTE flag bits, a4 = leaf level (0: 4 KiB, 1: 2 MiB, 2: 1 GiB, 3:
 * 512 GiB), a5 = root level (2 Sv39, 3 Sv48)) -> a0 = address of the leaf PTE, written as (pa >> 12) << 10 | flags.
 * Missing intermediate tables are allocated (non-leaf PTEs: V only). Clobbers t0-t3.
 */
  .global pt_map
pt_map:
  addi sp, sp, -16
  sd ra, 0(sp)
  mv t2, a0                 /* table */
  mv t3, a5                 /* level */
1:
  slli t0, t3, 3
  add t0, t0, t3
  addi t0, t0, 12           /* shift = 12 + 9 * level */
  srl t0, a1, t0
  andi t0, t0, 511
  slli t0, t0, 3
  add t0, t0, t2            /* &table[vpn[level]] */
  bne t3, a4, 2f
  srli t1, a2, 12
  slli t1, t1, 10
  or t1, t1, a3
  sd t1, 0(t0)
  mv a0, t0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
2:
  ld t1, 0(t0)
  andi a0, t1, PTE_V
  bnez a0, 3f
  addi sp, sp, -16
  sd t0, 0(sp)
  sd t2, 8(sp)
  call pt_alloc
  ld t0, 0(sp)
  ld t2, 8(sp)
  addi sp, sp, 16
  srli t1, a0, 12
  slli t1, t1, 10
  ori t1, t1, PTE_V
  sd t1, 0(t0)
3:
  srli t2, t1, 10
  slli t2, t2, 12
  addi t3, t3, -1
  j 1b

/* ---- data ----------------------------------------------------------------------------------------------------- */
  .data
  .balign 8
  .global m_rec, s_rec, m_regs, m_ctx, irq_log, s_exit_via_u, u_code_off, pt_next
m_rec: .dword 0, 0, 0, 0, 0, 0, 0, 0
s_rec: .dword 0, 0, 0, 0, 0, 0, 0, 0
m_regs: .fill 32, 8, 0
m_ctx: .fill 16, 8, 0
irq_log: .fill 17, 8, 0     /* count, then up to 16 interrupt causes in the order taken */
s_exit_via_u: .dword 0
u_code_off: .dword 0
pt_next: .dword 0
str_fatal: .asciz "FATAL unexpected trap: mcause "
str_mepc: .asciz " mepc "
str_mtval: .asciz " mtval "

  .bss
  .balign 4096
  .global pt_pool, pt_pool_end
pt_pool: .skip 4096 * 40
pt_pool_end:
