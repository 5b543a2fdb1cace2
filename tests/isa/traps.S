/*
 * M-mode traps and CSRs: ecall (cause 11), ebreak (3), illegal instructions (2, mtval = the instruction bits) for
 * reserved 32-bit and RVC encodings, CSR access rules, the Zicsr instructions' read/write semantics, mret, and the
 * trap CSRs mscratch/mepc/mtval/mcause/mtvec (privileged spec 3.1 and 3.3; unprivileged spec chapter 9).
 */
#include "test.h"

#define MSTATUS_MIE 0x8
#define MSTATUS_MPIE 0x80
#define MSTATUS_MPP 0x1800

/* ILLEGAL32 "name", bits: a 32-bit word that must raise an illegal-instruction exception with mtval = bits. */
.macro ILLEGAL32 name:req, bits:req
.Lill\@:
  .word \bits
  CHECK_TRAP "illegal \name", CAUSE_ILLEGAL_INSTRUCTION, .Lill\@, \bits
.endm

/* ILLEGAL16 "name", bits: a halfword that must raise an illegal-instruction exception with mtval = bits. */
.macro ILLEGAL16 name:req, bits:req
  .option push
  .option rvc
.Lill\@:
  .hword \bits
  .option pop
  CHECK_TRAP "illegal \name", CAUSE_ILLEGAL_INSTRUCTION, .Lill\@, \bits
.endm

  .text
  .align 2
/* A trap vector for the mtvec tests: records like trap_entry, plus a marker in mtvec_hits. */
alt_vector:
  addi sp, sp, -16
  sd t0, 0(sp)
  sd t1, 8(sp)
  la t0, mtvec_hits
  ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  ld t0, 0(sp)
  ld t1, 8(sp)
  addi sp, sp, 16
  j trap_entry

TEST_BEGIN
  /* ecall from M: cause 11, mepc = the ecall, mtval = 0; the handler resumes after it with registers intact */
  li a0, 0x1234
  li a7, 93
.Lecall:
  ecall
  CHECK_TRAP "ecall", CAUSE_MACHINE_ECALL, .Lecall, 0
  CHECK "ecall keeps a0", a0, 0x1234
  CHECK "ecall keeps a7", a7, 93
  /* the trap set mstatus.MPP = M, MPIE = old MIE (0), MIE = 0 */
  la t0, trap_rec
  ld t1, TRAP_MSTATUS(t0)
  li t2, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and t1, t1, t2
  CHECK "ecall: mstatus.MPP=M MPIE=0 MIE=0 in the handler", t1, MSTATUS_MPP
  /* with MIE set before the trap, MPIE = 1 and MIE = 0 inside the handler (mie = 0: no interrupt can fire) */
  csrs mstatus, MSTATUS_MIE
.Lecall2:
  ecall
  csrc mstatus, MSTATUS_MIE
  CHECK_TRAP "ecall with MIE", CAUSE_MACHINE_ECALL, .Lecall2, 0
  la t0, trap_rec
  ld t1, TRAP_MSTATUS(t0)
  li t2, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and t1, t1, t2
  CHECK "ecall with MIE: MPIE=1 MIE=0 in the handler", t1, MSTATUS_MPP | MSTATUS_MPIE

  /* ebreak: cause 3 */
.Lebreak:
  ebreak
  CHECK_TRAP_EBREAK "ebreak", .Lebreak
.Lcebreak:
  RVC c.ebreak
  CHECK_TRAP_EBREAK "c.ebreak", .Lcebreak

  /* illegal 32-bit encodings; mtval holds the instruction bits, zero-extended */
  ILLEGAL32 "custom-0 opcode", 0x0000000b
  ILLEGAL32 "load funct3=7", 0x00007003
  ILLEGAL32 "store funct3=4", 0x00004023
  ILLEGAL32 "branch funct3=2", 0x00002063
  ILLEGAL32 "jalr funct3=1", 0x00001067
  ILLEGAL32 "OP funct7=0x02", 0x04000033
  ILLEGAL32 "OP-32 funct7=1 funct3=1", 0x0200103b
  ILLEGAL32 "slliw shamt[5]=1", 0x0200101b
  ILLEGAL32 "SYSTEM funct12=2 (uret)", 0x00200073
  ILLEGAL32 "fadd.s with mstatus.FS=Off", 0x00000053
  ILLEGAL32 "csrw mvendorid (read-only)", 0xf1101073
  ILLEGAL32 "csrrs mhartid, a0 (read-only, rs1!=x0)", 0xf1452573
  ILLEGAL32 "csrrwi marchid, 0 (read-only)", 0xf1205073
  ILLEGAL32 "unimp = csrrw x0, cycle, x0", 0xc0001073
  ILLEGAL32 "csrr of unimplemented CSR 0x0ff", 0x0ff02573

  /* illegal and reserved RVC encodings; mtval holds the 16 bits */
  ILLEGAL16 "c 0x0000", 0x0000
  ILLEGAL16 "c.addi4spn nzuimm=0", 0x0004
  ILLEGAL16 "c.addiw rd=0", 0x2001
  ILLEGAL16 "c.lui nzimm=0", 0x6081
  ILLEGAL16 "c.addi16sp nzimm=0", 0x6101
  ILLEGAL16 "c.lwsp rd=0", 0x4002
  ILLEGAL16 "c.ldsp rd=0", 0x6002
  ILLEGAL16 "c.jr rs1=0", 0x8002
  ILLEGAL16 "Q1 reserved 100 1 11 10", 0x9c41
  ILLEGAL16 "Q1 reserved 100 1 11 11", 0x9c61

  /* CSR reads that do not write are legal on read-only CSRs */
  csrrs a0, mhartid, x0
  CHECK "csrrs mhartid, x0", a0, 0
  csrrc a0, mvendorid, x0
  csrrsi a0, marchid, 0
  csrrci a0, mimpid, 0
  CHECK_NO_TRAP "read-only CSRs: csrrs/csrrc x0 and csrrsi/csrrci 0 do not trap"
  csrr a0, misa
  srli a1, a0, 62
  CHECK "misa.MXL = 2 (64-bit)", a1, 2
  li t0, (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12)
  and a1, a0, t0
  CHECK "misa has A, C, I, M", a1, (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12)

  /* Zicsr on mscratch: old value to rd, then write / set / clear */
  li t0, 0x8000000000000001
  csrw mscratch, t0
  csrr a0, mscratch
  CHECK "mscratch holds 64 bits", a0, 0x8000000000000001
  li t0, 0x0123456789abcdef
  csrrw a0, mscratch, t0
  CHECK "csrrw old", a0, 0x8000000000000001
  csrr a0, mscratch
  CHECK "csrrw new", a0, 0x0123456789abcdef
  li t0, 0xff00000000000000
  csrrs a0, mscratch, t0
  CHECK "csrrs old", a0, 0x0123456789abcdef
  csrr a0, mscratch
  CHECK "csrrs new", a0, 0xff23456789abcdef
  li t0, 0x00000000ffffffff
  csrrc a0, mscratch, t0
  CHECK "csrrc old", a0, 0xff23456789abcdef
  csrr a0, mscratch
  CHECK "csrrc new", a0, 0xff23456700000000
  csrrwi a0, mscratch, 31
  CHECK "csrrwi old", a0, 0xff23456700000000
  csrr a0, mscratch
  CHECK "csrrwi new (uimm zero-extended)", a0, 31
  csrrci a0, mscratch, 0x15
  CHECK "csrrci old", a0, 31
  csrr a0, mscratch
  CHECK "csrrci new", a0, 0x0a
  csrrsi a0, mscratch, 0x11
  CHECK "csrrsi old", a0, 0x0a
  csrr a0, mscratch
  CHECK "csrrsi new", a0, 0x1b
  csrrsi a0, mscratch, 0
  csrrs a1, mscratch, x0
  csrrc a2, mscratch, x0
  csrrci a3, mscratch, 0
  CHECK "csrrsi 0 reads", a0, 0x1b
  CHECK "csrrs x0 reads", a1, 0x1b
  CHECK "csrrc x0 reads", a2, 0x1b
  CHECK "csrrci 0 reads", a3, 0x1b
  li t0, 0x77
  csrrw t0, mscratch, t0
  CHECK "csrrw rd=rs1 swaps: old", t0, 0x1b
  csrr a0, mscratch
  CHECK "csrrw rd=rs1 swaps: new", a0, 0x77
  li t0, 0x100
  csrrs t0, mscratch, t0
  CHECK "csrrs rd=rs1 old", t0, 0x77
  csrr a0, mscratch
  CHECK "csrrs rd=rs1 new", a0, 0x177
  csrrw x0, mscratch, zero
  csrr a0, mscratch
  CHECK "csrrw rd=x0 writes", a0, 0
  li t0, 5
  csrrs x0, mscratch, t0
  csrr a0, mscratch
  CHECK "csrrs rd=x0 sets", a0, 5
  csrrw x0, mscratch, x0

  /* mepc: bit 0 always reads 0, bit 1 is kept (IALIGN = 16) */
  li t0, 0x80001236
  csrw mepc, t0
  csrr a0, mepc
  CHECK "mepc keeps bit 1", a0, 0x80001236
  li t0, 0x80001235
  csrw mepc, t0
  csrr a0, mepc
  CHECK "mepc bit 0 reads 0", a0, 0x80001234

  /* mtval holds any address and instruction bits; mcause holds legal cause values */
  li t0, 0x80001234
  csrw mtval, t0
  csrr a0, mtval
  CHECK "mtval address", a0, 0x80001234
  li t0, 0xf1101073
  csrw mtval, t0
  csrr a0, mtval
  CHECK "mtval instruction bits", a0, 0xf1101073
  csrw mtval, zero
  csrr a0, mtval
  CHECK "mtval zero", a0, 0
  li t0, 11
  csrw mcause, t0
  csrr a0, mcause
  CHECK "mcause 11", a0, 11
  li t0, 0x8000000000000007
  csrw mcause, t0
  csrr a0, mcause
  CHECK "mcause interrupt 7", a0, 0x8000000000000007

  /* mtvec: direct and vectored modes read back; synchronous exceptions go to BASE in both */
  csrr s0, mtvec
  la t0, alt_vector
  csrw mtvec, t0
  csrr a0, mtvec
  CHECK_REGS "mtvec direct reads back", a0, t0
.Lvec_ecall1:
  ecall
  CHECK_TRAP "ecall through mtvec direct", CAUSE_MACHINE_ECALL, .Lvec_ecall1, 0
  la t1, mtvec_hits
  ld a0, 0(t1)
  CHECK "mtvec direct: handler at BASE", a0, 1
  ori t0, t0, 1
  csrw mtvec, t0
  csrr a0, mtvec
  CHECK_REGS "mtvec vectored reads back", a0, t0
.Lvec_ecall2:
  ecall
  CHECK_TRAP "ecall through mtvec vectored", CAUSE_MACHINE_ECALL, .Lvec_ecall2, 0
  la t1, mtvec_hits
  ld a0, 0(t1)
  CHECK "mtvec vectored: exceptions still at BASE", a0, 2
  csrw mtvec, s0
  csrr a0, mtvec
  CHECK_REGS "mtvec restored", a0, s0

  /*
   * mret: pc = mepc, MIE = MPIE, MPIE = 1, MPP = the least-privileged supported mode: U if misa.U, else M. s1 holds
   * that MPP field for the checks.
   */
  csrr s1, misa
  srli s1, s1, 20
  andi s1, s1, 1
  addi s1, s1, -1
  li t0, MSTATUS_MPP
  and s1, s1, t0
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  li t0, MSTATUS_MPIE | MSTATUS_MIE
  csrc mstatus, t0
  la t0, .Lmret1_target
  csrw mepc, t0
  li a0, 0
  mret
  li a0, 1
.Lmret1_target:
  CHECK "mret jumps to mepc", a0, 0
  csrr t1, mstatus
  li t2, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and t1, t1, t2
  ori t2, s1, MSTATUS_MPIE
  CHECK_REGS "mret with MPIE=0: MIE=0 MPIE=1 MPP=least-privileged", t1, t2
  li t0, MSTATUS_MPP | MSTATUS_MPIE
  csrs mstatus, t0
  la t0, .Lmret2_target
  csrw mepc, t0
  li a0, 0
  mret
  li a0, 1
.Lmret2_target:
  csrr t1, mstatus
  csrc mstatus, MSTATUS_MIE
  li t2, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and t1, t1, t2
  ori t2, s1, MSTATUS_MPIE | MSTATUS_MIE
  CHECK_REGS "mret with MPIE=1: MIE=1 MPIE=1 MPP=least-privileged", t1, t2
  CHECK "mret 2 jumps to mepc", a0, 0
  /* mret to a 2-byte aligned target */
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  la t0, .Lmret3_target
  csrw mepc, t0
  li a0, 0
  mret
  .option push
  .option rvc
  c.nop
.Lmret3_target:
  c.li a0, 9
  .option pop
  CHECK "mret to a 2-byte aligned target", a0, 9

  /* a trap inside a sequence resumes exactly after the faulting instruction, compressed or not */
  li a0, 0
  addi a0, a0, 1
.Lill_mid:
  .word 0x0000000b
  addi a0, a0, 2
  .option push
  .option rvc
.Lill_mid16:
  .hword 0x0000
  c.addi a0, 4
  .option pop
  CHECK "execution resumes after 4- and 2-byte faults", a0, 7
  la t0, trap_rec
  ld a1, TRAP_COUNT(t0)
  sd zero, TRAP_COUNT(t0)
  CHECK "two traps in the sequence", a1, 2
TEST_END

  .data
  .align 3
mtvec_hits: .dword 0
