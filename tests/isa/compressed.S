/*
 * RV64C: every compressed instruction of RV64IMAC (c.fld/c.fsd/c.fldsp/c.fsdsp belong to D and are left out),
 * written with explicit c. mnemonics and compared with its 32-bit expansion and with the expected value; operand
 * edges (immediate ranges, shift amounts 1/31/32/63, W sign extension); the RVC HINT encodings, which must execute as
 * no-ops (unprivileged spec, chapter 16). Reserved and illegal RVC encodings are in traps.S.
 */
#include "test.h"

  .data
  .align 4
rvc_data:
  .dword 0x8123456789abcdef
  .dword 0x923456789abcdf00
  .dword 0xa3456789abcdf011
  .dword 0xb456789abcdf0122
  .dword 0xc56789abcdf01233
  .dword 0xd6789abcdf012344
  .dword 0xe789abcdf0123455
  .dword 0xf89abcdf01234566
  .dword 0x9abcdf012345677
  .dword 0x1abcdf0123456788
  .dword 0x2bcdf01234567899
  .dword 0x3cdf0123456789aa
  .dword 0x4df0123456789abb
  .dword 0x5f0123456789abcc
  .dword 0x70123456789abcdd
  .dword 0x8123456789abcdee
  .dword 0x923456789abcdeff
  .dword 0xa3456789abcdf010
  .dword 0xb456789abcdf0121
  .dword 0xc56789abcdf01232
  .dword 0xd6789abcdf012343
  .dword 0xe789abcdf0123454
  .dword 0xf89abcdf01234565
  .dword 0x9abcdf012345676
  .dword 0x1abcdf0123456787
  .dword 0x2bcdf01234567898
  .dword 0x3cdf0123456789a9
  .dword 0x4df0123456789aba
  .dword 0x5f0123456789abcb
  .dword 0x70123456789abcdc
  .dword 0x8123456789abcded
  .dword 0x923456789abcdefe
  .dword 0xa3456789abcdf00f
  .dword 0xb456789abcdf0120
  .dword 0xc56789abcdf01231
  .dword 0xd6789abcdf012342
  .dword 0xe789abcdf0123453
  .dword 0xf89abcdf01234564
  .dword 0x9abcdf012345675
  .dword 0x1abcdf0123456786
  .dword 0x2bcdf01234567897
  .dword 0x3cdf0123456789a8
  .dword 0x4df0123456789ab9
  .dword 0x5f0123456789abca
  .dword 0x70123456789abcdb
  .dword 0x8123456789abcdec
  .dword 0x923456789abcdefd
  .dword 0xa3456789abcdf00e
  .dword 0xb456789abcdf011f
  .dword 0xc56789abcdf01230
  .dword 0xd6789abcdf012341
  .dword 0xe789abcdf0123452
  .dword 0xf89abcdf01234563
  .dword 0x9abcdf012345674
  .dword 0x1abcdf0123456785
  .dword 0x2bcdf01234567896
  .dword 0x3cdf0123456789a7
  .dword 0x4df0123456789ab8
  .dword 0x5f0123456789abc9
  .dword 0x70123456789abcda
  .dword 0x8123456789abcdeb
  .dword 0x923456789abcdefc
  .dword 0xa3456789abcdf00d
  .dword 0xb456789abcdf011e
rvc_scratch:
  .space 512

/* C_IMM cop, op, init, imm, want: cop a0, imm against op a1, a1, imm from the same start value. */
.macro C_IMM cop:req, op:req, init:req, imm:req, want:req
  li a0, \init
  li a1, \init
  RVC \cop a0, \imm
  \op a1, a1, \imm
  CHECK_REGS "\cop \init \imm = \op", a0, a1
  CHECK "\cop \init \imm", a0, \want
.endm

/* C_RR cop, op, a, b, want: cop a0, a2 against op a1, a1, a2. */
.macro C_RR cop:req, op:req, a:req, b:req, want:req
  li a0, \a
  li a1, \a
  li a2, \b
  RVC \cop a0, a2
  \op a1, a1, a2
  CHECK_REGS "\cop \a \b = \op", a0, a1
  CHECK "\cop \a \b", a0, \want
  CHECK "\cop \a \b keeps rs2", a2, \b
.endm

TEST_BEGIN
  /* c.addi4spn rd', sp, nzuimm (x4, 4..1020) = addi rd', sp, nzuimm */
  RVC c.addi4spn a0, sp, 4
  addi a1, sp, 4
  CHECK_REGS "c.addi4spn 4 = addi", a0, a1
  RVC c.addi4spn a0, sp, 8
  addi a1, sp, 8
  CHECK_REGS "c.addi4spn 8 = addi", a0, a1
  RVC c.addi4spn a0, sp, 512
  addi a1, sp, 512
  CHECK_REGS "c.addi4spn 512 = addi", a0, a1
  RVC c.addi4spn a0, sp, 1020
  addi a1, sp, 1020
  CHECK_REGS "c.addi4spn 1020 = addi", a0, a1
  RVC c.addi4spn s0, sp, 16
  addi a1, sp, 16
  CHECK_REGS "c.addi4spn into s0", s0, a1
  RVC c.addi4spn a5, sp, 32
  addi a1, sp, 32
  CHECK_REGS "c.addi4spn into a5", a5, a1
  /* c.lw / c.ld: rd', uimm(rs1') against lw / ld */
  la s1, rvc_data
  RVC c.lw a0, 0(s1)
  lw a1, 0(s1)
  CHECK_REGS "c.lw 0 = lw", a0, a1
  CHECK "c.lw 0", a0, 0xffffffff89abcdef
  RVC c.lw a0, 4(s1)
  lw a1, 4(s1)
  CHECK_REGS "c.lw 4 = lw", a0, a1
  CHECK "c.lw 4", a0, 0xffffffff81234567
  RVC c.lw a0, 64(s1)
  lw a1, 64(s1)
  CHECK_REGS "c.lw 64 = lw", a0, a1
  CHECK "c.lw 64", a0, 0x12345677
  RVC c.lw a0, 124(s1)
  lw a1, 124(s1)
  CHECK_REGS "c.lw 124 = lw", a0, a1
  CHECK "c.lw 124", a0, 0xffffffff81234567
  RVC c.ld a0, 0(s1)
  ld a1, 0(s1)
  CHECK_REGS "c.ld 0 = ld", a0, a1
  CHECK "c.ld 0", a0, 0x8123456789abcdef
  RVC c.ld a0, 8(s1)
  ld a1, 8(s1)
  CHECK_REGS "c.ld 8 = ld", a0, a1
  CHECK "c.ld 8", a0, 0x923456789abcdf00
  RVC c.ld a0, 128(s1)
  ld a1, 128(s1)
  CHECK_REGS "c.ld 128 = ld", a0, a1
  CHECK "c.ld 128", a0, 0x923456789abcdeff
  RVC c.ld a0, 248(s1)
  ld a1, 248(s1)
  CHECK_REGS "c.ld 248 = ld", a0, a1
  CHECK "c.ld 248", a0, 0x923456789abcdefe
  la a5, rvc_data
  RVC c.lw s0, 12(a5)
  CHECK "c.lw s0, 12(a5)", s0, 0xffffffff92345678
  RVC c.ld s1, 16(a5)
  CHECK "c.ld s1, 16(a5)", s1, 0xa3456789abcdf011
  la a5, rvc_data
  RVC c.ld a5, 24(a5)
  CHECK "c.ld rd=rs1", a5, 0xb456789abcdf0122
  /* c.sw / c.sd: rs2', uimm(rs1') */
  la s1, rvc_scratch
  li a2, 0x8899aabbccddeeff
  li a3, -1
  sd a3, 0(s1)
  RVC c.sw a2, 0(s1)
  ld a0, 0(s1)
  CHECK "c.sw 0", a0, 0xffffffffccddeeff
  li a3, -1
  sd a3, 0(s1)
  RVC c.sw a2, 4(s1)
  ld a0, 0(s1)
  CHECK "c.sw 4", a0, 0xccddeeffffffffff
  li a3, -1
  sd a3, 120(s1)
  RVC c.sw a2, 124(s1)
  ld a0, 120(s1)
  CHECK "c.sw 124", a0, 0xccddeeffffffffff
  sd zero, 0(s1)
  RVC c.sd a2, 0(s1)
  ld a0, 0(s1)
  CHECK "c.sd 0", a0, 0x8899aabbccddeeff
  sd zero, 8(s1)
  RVC c.sd a2, 8(s1)
  ld a0, 8(s1)
  CHECK "c.sd 8", a0, 0x8899aabbccddeeff
  sd zero, 248(s1)
  RVC c.sd a2, 248(s1)
  ld a0, 248(s1)
  CHECK "c.sd 248", a0, 0x8899aabbccddeeff
  /* c.nop changes nothing */
  li a0, 0x1234
  li a1, 0x5678
  RVC c.nop
  CHECK "c.nop a0", a0, 0x1234
  CHECK "c.nop a1", a1, 0x5678

  /* c.addi rd, nzimm (-32..31) */
  C_IMM c.addi, addi, 0x0, 1, 0x1
  C_IMM c.addi, addi, 0x0, -32, 0xffffffffffffffe0
  C_IMM c.addi, addi, 0x0, 31, 0x1f
  C_IMM c.addi, addi, 0x7fffffffffffffff, 1, 0x8000000000000000
  C_IMM c.addi, addi, 0x8000000000000000, -1, 0x7fffffffffffffff
  C_IMM c.addi, addi, 0xffffffff, 1, 0x100000000
  C_IMM c.addi, addi, 0x5, -5, 0x0
  li ra, 10
  RVC c.addi ra, -3
  CHECK "c.addi ra", ra, 7
  li t6, 10
  RVC c.addi t6, 3
  CHECK "c.addi t6", t6, 13
  /* c.addiw rd, imm (rd != 0; imm 0 is sext.w) */
  C_IMM c.addiw, addiw, 0x7fffffff, 1, 0xffffffff80000000
  C_IMM c.addiw, addiw, 0xffffffff, 0, 0xffffffffffffffff
  C_IMM c.addiw, addiw, 0x1234567880000000, 0, 0xffffffff80000000
  C_IMM c.addiw, addiw, 0xffffffff00000000, -1, 0xffffffffffffffff
  C_IMM c.addiw, addiw, 0x5, 31, 0x24
  C_IMM c.addiw, addiw, 0x5, -32, 0xffffffffffffffe5
  C_IMM c.addiw, addiw, 0x80000000, -1, 0x7fffffff
  /* c.li rd, imm */
  li a0, 0x5555
  RVC c.li a0, 0
  li a1, 0x5555
  addi a1, zero, 0
  CHECK_REGS "c.li 0 = addi", a0, a1
  CHECK "c.li 0", a0, 0x0
  li a0, 0x5555
  RVC c.li a0, 1
  li a1, 0x5555
  addi a1, zero, 1
  CHECK_REGS "c.li 1 = addi", a0, a1
  CHECK "c.li 1", a0, 0x1
  li a0, 0x5555
  RVC c.li a0, -1
  li a1, 0x5555
  addi a1, zero, -1
  CHECK_REGS "c.li -1 = addi", a0, a1
  CHECK "c.li -1", a0, 0xffffffffffffffff
  li a0, 0x5555
  RVC c.li a0, 31
  li a1, 0x5555
  addi a1, zero, 31
  CHECK_REGS "c.li 31 = addi", a0, a1
  CHECK "c.li 31", a0, 0x1f
  li a0, 0x5555
  RVC c.li a0, -32
  li a1, 0x5555
  addi a1, zero, -32
  CHECK_REGS "c.li -32 = addi", a0, a1
  CHECK "c.li -32", a0, 0xffffffffffffffe0
  RVC c.li t5, -7
  CHECK "c.li t5", t5, -7
  /* c.addi16sp sp, nzimm (x16, -512..496) */
  mv a1, sp
  RVC c.addi16sp sp, 16
  mv a0, sp
  mv sp, a1
  addi a1, a1, 16
  CHECK_REGS "c.addi16sp 16 = addi", a0, a1
  mv a1, sp
  RVC c.addi16sp sp, -16
  mv a0, sp
  mv sp, a1
  addi a1, a1, -16
  CHECK_REGS "c.addi16sp -16 = addi", a0, a1
  mv a1, sp
  RVC c.addi16sp sp, 496
  mv a0, sp
  mv sp, a1
  addi a1, a1, 496
  CHECK_REGS "c.addi16sp 496 = addi", a0, a1
  mv a1, sp
  RVC c.addi16sp sp, -512
  mv a0, sp
  mv sp, a1
  addi a1, a1, -512
  CHECK_REGS "c.addi16sp -512 = addi", a0, a1
  /* c.lui rd, nzimm (rd != 0, 2): bits 17:12, sign-extended */
  RVC c.lui a0, 0x1
  lui a1, 0x1
  CHECK_REGS "c.lui 0x1 = lui", a0, a1
  CHECK "c.lui 0x1", a0, 0x1000
  RVC c.lui a0, 0x1f
  lui a1, 0x1f
  CHECK_REGS "c.lui 0x1f = lui", a0, a1
  CHECK "c.lui 0x1f", a0, 0x1f000
  RVC c.lui a0, 0xfffe0
  lui a1, 0xfffe0
  CHECK_REGS "c.lui 0xfffe0 = lui", a0, a1
  CHECK "c.lui 0xfffe0", a0, 0xfffffffffffe0000
  RVC c.lui a0, 0xfffff
  lui a1, 0xfffff
  CHECK_REGS "c.lui 0xfffff = lui", a0, a1
  CHECK "c.lui 0xfffff", a0, 0xfffffffffffff000
  RVC c.lui t6, 0x1
  CHECK "c.lui t6", t6, 0x1000
  /* c.srli / c.srai / c.andi on rd' */
  C_IMM c.srli, srli, 0x8000000180000001, 1, 0x40000000c0000000
  C_IMM c.srai, srai, 0x8000000180000001, 1, 0xc0000000c0000000
  C_IMM c.srli, srli, 0x8000000180000001, 31, 0x100000003
  C_IMM c.srai, srai, 0x8000000180000001, 31, 0xffffffff00000003
  C_IMM c.srli, srli, 0x8000000180000001, 32, 0x80000001
  C_IMM c.srai, srai, 0x8000000180000001, 32, 0xffffffff80000001
  C_IMM c.srli, srli, 0x8000000180000001, 63, 0x1
  C_IMM c.srai, srai, 0x8000000180000001, 63, 0xffffffffffffffff
  C_IMM c.andi, andi, 0x80000001800000ff, 0, 0x0
  C_IMM c.andi, andi, 0x80000001800000ff, 31, 0x1f
  C_IMM c.andi, andi, 0x80000001800000ff, -32, 0x80000001800000e0
  C_IMM c.andi, andi, 0x80000001800000ff, -1, 0x80000001800000ff
  C_IMM c.andi, andi, 0x80000001800000ff, 21, 0x15
  /* c.sub / c.xor / c.or / c.and / c.subw / c.addw on rd', rs2' */
  C_RR c.sub, sub, 0x5, 0x7, 0xfffffffffffffffe
  C_RR c.sub, sub, 0x8000000000000000, 0x1, 0x7fffffffffffffff
  C_RR c.sub, sub, 0x7fffffff, 0x1, 0x7ffffffe
  C_RR c.sub, sub, 0xffffffff00000000, 0x123456789abcdef, 0xfedcba9776543211
  C_RR c.sub, sub, 0x80000000, 0x80000000, 0x0
  C_RR c.xor, xor, 0x5, 0x7, 0x2
  C_RR c.xor, xor, 0x8000000000000000, 0x1, 0x8000000000000001
  C_RR c.xor, xor, 0x7fffffff, 0x1, 0x7ffffffe
  C_RR c.xor, xor, 0xffffffff00000000, 0x123456789abcdef, 0xfedcba9889abcdef
  C_RR c.xor, xor, 0x80000000, 0x80000000, 0x0
  C_RR c.or, or, 0x5, 0x7, 0x7
  C_RR c.or, or, 0x8000000000000000, 0x1, 0x8000000000000001
  C_RR c.or, or, 0x7fffffff, 0x1, 0x7fffffff
  C_RR c.or, or, 0xffffffff00000000, 0x123456789abcdef, 0xffffffff89abcdef
  C_RR c.or, or, 0x80000000, 0x80000000, 0x80000000
  C_RR c.and, and, 0x5, 0x7, 0x5
  C_RR c.and, and, 0x8000000000000000, 0x1, 0x0
  C_RR c.and, and, 0x7fffffff, 0x1, 0x1
  C_RR c.and, and, 0xffffffff00000000, 0x123456789abcdef, 0x123456700000000
  C_RR c.and, and, 0x80000000, 0x80000000, 0x80000000
  C_RR c.subw, subw, 0x5, 0x7, 0xfffffffffffffffe
  C_RR c.subw, subw, 0x8000000000000000, 0x1, 0xffffffffffffffff
  C_RR c.subw, subw, 0x7fffffff, 0x1, 0x7ffffffe
  C_RR c.subw, subw, 0xffffffff00000000, 0x123456789abcdef, 0x76543211
  C_RR c.subw, subw, 0x80000000, 0x80000000, 0x0
  C_RR c.addw, addw, 0x5, 0x7, 0xc
  C_RR c.addw, addw, 0x8000000000000000, 0x1, 0x1
  C_RR c.addw, addw, 0x7fffffff, 0x1, 0xffffffff80000000
  C_RR c.addw, addw, 0xffffffff00000000, 0x123456789abcdef, 0xffffffff89abcdef
  C_RR c.addw, addw, 0x80000000, 0x80000000, 0x0
  li s0, 10
  li a5, 3
  RVC c.sub s0, a5
  CHECK "c.sub s0, a5", s0, 7
  li a5, 0x7fffffff
  RVC c.addw a5, a5
  CHECK "c.addw a5, a5", a5, 0xfffffffffffffffe

  /* c.j: forwards and backwards */
  li a0, 0
  RVC_BRANCH c.j 1f
  li a0, 1
1:
  CHECK "c.j forward", a0, 0
  li a0, 0
  j 3f
2:
  li a0, 2
  j 4f
3:
  RVC_BRANCH c.j 2b
  li a0, 1
4:
  CHECK "c.j backward", a0, 2

  /* c.beqz / c.bnez on rs1': the whole 64-bit register is compared */
  li a2, 0
  li a0, 0
  RVC_BRANCH c.beqz a2, 1f
  li a0, 1
1:
  CHECK "c.beqz taken", a0, 0
  li a2, 0x100000000
  li a0, 0
  RVC_BRANCH c.beqz a2, 1f
  li a0, 1
1:
  CHECK "c.beqz upper bits not taken", a0, 1
  li a2, 0x100000000
  li a0, 0
  RVC_BRANCH c.bnez a2, 1f
  li a0, 1
1:
  CHECK "c.bnez upper bits taken", a0, 0
  li s0, 0
  li a0, 0
  RVC_BRANCH c.bnez s0, 1f
  li a0, 1
1:
  CHECK "c.bnez not taken", a0, 1
  li a0, 0
  li s1, -1
  j 3f
2:
  li a0, 2
  j 4f
3:
  RVC_BRANCH c.bnez s1, 2b
  li a0, 1
4:
  CHECK "c.bnez backward", a0, 2

  /* c.slli rd, shamt (1..63) */
  C_IMM c.slli, slli, 0x8000000180000007, 1, 0x30000000e
  C_IMM c.slli, slli, 0x8000000180000007, 31, 0xc000000380000000
  C_IMM c.slli, slli, 0x8000000180000007, 32, 0x8000000700000000
  C_IMM c.slli, slli, 0x8000000180000007, 63, 0x8000000000000000
  li t3, 3
  RVC c.slli t3, 4
  CHECK "c.slli t3", t3, 48
  /* c.lwsp / c.ldsp / c.swsp / c.sdsp with sp pointing at rvc_data / rvc_scratch */
  mv s11, sp
  la sp, rvc_data
  RVC c.lwsp t0, 0(sp)
  RVC c.lwsp t1, 4(sp)
  RVC c.lwsp t2, 252(sp)
  RVC c.ldsp a0, 0(sp)
  RVC c.ldsp a1, 8(sp)
  RVC c.ldsp a2, 504(sp)
  RVC c.ldsp ra, 16(sp)
  mv sp, s11
  CHECK "c.lwsp 0", t0, 0xffffffff89abcdef
  CHECK "c.lwsp 4", t1, 0xffffffff81234567
  CHECK "c.lwsp 252", t2, 0xffffffff92345678
  CHECK "c.ldsp 0", a0, 0x8123456789abcdef
  CHECK "c.ldsp 8", a1, 0x923456789abcdf00
  CHECK "c.ldsp 504", a2, 0xb456789abcdf011e
  CHECK "c.ldsp ra", ra, 0xa3456789abcdf011
  li t0, 0x0123456789abcdef
  li t1, -1
  la a0, rvc_scratch
  sd t1, 0(a0)
  sd t1, 248(a0)
  sd t1, 504(a0)
  mv s11, sp
  la sp, rvc_scratch
  RVC c.swsp t0, 0(sp)
  RVC c.swsp t0, 252(sp)
  RVC c.sdsp t0, 504(sp)
  RVC c.sdsp t0, 8(sp)
  mv sp, s11
  ld a1, 0(a0)
  CHECK "c.swsp 0", a1, 0xffffffff89abcdef
  ld a1, 248(a0)
  CHECK "c.swsp 252", a1, 0x89abcdefffffffff
  ld a1, 504(a0)
  CHECK "c.sdsp 504", a1, 0x0123456789abcdef
  ld a1, 8(a0)
  CHECK "c.sdsp 8", a1, 0x0123456789abcdef

  /* c.jr / c.jalr: jump to rs1; c.jalr links pc + 2 in ra */
  la a2, 1f
  li a0, 0
  RVC c.jr a2
  li a0, 1
1:
  CHECK "c.jr", a0, 0
  la t4, 2f
  li a0, 0
.Lcjalr:
  RVC c.jalr t4
  li a0, 1
2:
  la a1, .Lcjalr + 2
  CHECK_REGS "c.jalr links pc + 2", ra, a1
  CHECK "c.jalr jumps", a0, 0
  la ra, 3f
  li a0, 0
  RVC c.jalr ra
  li a0, 1
3:
  CHECK "c.jalr ra, ra: jumps to old ra", a0, 0
  li a0, 0
  call .Lcret
  CHECK "c.jr ra (ret)", a0, 5

  /* c.mv rd, rs2 = add rd, x0, rs2; c.add rd, rs2 = add rd, rd, rs2 */
  li a2, 0x8000000000000001
  li a0, 7
  RVC c.mv a0, a2
  CHECK "c.mv", a0, 0x8000000000000001
  RVC c.mv t6, a2
  CHECK "c.mv t6", t6, 0x8000000000000001
  RVC c.mv ra, a2
  CHECK "c.mv ra", ra, 0x8000000000000001
  C_RR c.add, add, 0x7fffffffffffffff, 1, 0x8000000000000000
  C_RR c.add, add, 0xffffffff, 1, 0x100000000
  li t5, 3
  RVC c.add t5, t5
  CHECK "c.add t5, t5", t5, 6

  /* c.ebreak: breakpoint exception, mepc at the 2-byte instruction */
.Lcebreak:
  RVC c.ebreak
  CHECK_TRAP_EBREAK "c.ebreak", .Lcebreak

  /*
   * RVC HINTs (unprivileged spec, table 16.3: rd = x0, or a zero immediate/shift) are no-ops: a0-a2 and t0-t1
   * must be unchanged.
   */
  li a0, 0x1111
  li a1, 0x2222
  li a2, 0x3333
  li t0, 0x4444
  li t1, 0x5555
  .option push
  .option rvc
  .hword 0x0005             /* c.nop with nzimm = 1 */
  .hword 0x107d             /* c.nop with nzimm = -1 */
  .hword 0x0501             /* c.addi a0, 0 */
  .hword 0x4015             /* c.li x0, 5 */
  .hword 0x6005             /* c.lui x0, 1 */
  .hword 0x802a             /* c.mv x0, a0 */
  .hword 0x902a             /* c.add x0, a0 */
  .hword 0x0006             /* c.slli x0, 1 */
  .hword 0x0502             /* c.slli a0, 0 (c.slli64) */
  .hword 0x8101             /* c.srli a0, 0 (c.srli64) */
  .hword 0x8501             /* c.srai a0, 0 (c.srai64) */
  .option pop
  CHECK "hints keep a0", a0, 0x1111
  CHECK "hints keep a1", a1, 0x2222
  CHECK "hints keep a2", a2, 0x3333
  CHECK "hints keep t0", t0, 0x4444
  CHECK "hints keep t1", t1, 0x5555
  CHECK "hints keep x0", x0, 0
  CHECK_NO_TRAP "hints do not trap"
TEST_END

.Lcret:
  li a0, 5
  RVC c.jr ra

