/*
 * RV64I loads and stores: every width and signedness at every byte offset 0-7 (the misaligned ones included: in
 * M-mode QEMU and popek perform them without trapping), negative offsets, neighbours left untouched, rd = rs1,
 * and loads into x0 (unprivileged spec, section 2.6).
 */
#include "test.h"

  .data
  .align 4
ld_data:
  .byte 0x00, 0x81, 0x7f, 0xff, 0x80, 0x01, 0xfe, 0x42, 0x11, 0x92, 0x33, 0xc4, 0x55, 0xe6, 0x77, 0x88
  .byte 0xf9, 0x0a, 0xbb, 0x8c, 0xdd, 0x7e, 0xef, 0xa0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
  .align 4
st_area:
  .space 32

/* TEST_LD op, off, want: op t2, off(t0) with t0 = ld_data. */
.macro TEST_LD op:req, off:req, want:req
  la t0, ld_data
  \op t2, \off(t0)
  CHECK "\op ld_data+\off", t2, \want
.endm

/* TEST_ST op, off, want0, want1, want2: fill st_area with 0xa5, op 0x0123456789abcdef at off(t0), read back. */
.macro TEST_ST op:req, off:req, want0:req, want1:req, want2:req
  la t0, st_area
  li t1, 0xa5a5a5a5a5a5a5a5
  sd t1, 0(t0)
  sd t1, 8(t0)
  sd t1, 16(t0)
  li t1, 0x0123456789abcdef
  \op t1, \off(t0)
  ld t2, 0(t0)
  CHECK "\op st_area+\off dword 0", t2, \want0
  ld t2, 8(t0)
  CHECK "\op st_area+\off dword 1", t2, \want1
  ld t2, 16(t0)
  CHECK "\op st_area+\off dword 2", t2, \want2
.endm

TEST_BEGIN
  /* lb */
  TEST_LD lb, 0, 0x0
  TEST_LD lb, 1, 0xffffffffffffff81
  TEST_LD lb, 2, 0x7f
  TEST_LD lb, 3, 0xffffffffffffffff
  TEST_LD lb, 4, 0xffffffffffffff80
  TEST_LD lb, 5, 0x1
  TEST_LD lb, 6, 0xfffffffffffffffe
  TEST_LD lb, 7, 0x42
  TEST_LD lb, 8, 0x11
  TEST_LD lb, 9, 0xffffffffffffff92
  TEST_LD lb, 10, 0x33
  TEST_LD lb, 11, 0xffffffffffffffc4
  TEST_LD lb, 12, 0x55
  TEST_LD lb, 13, 0xffffffffffffffe6
  TEST_LD lb, 14, 0x77
  TEST_LD lb, 15, 0xffffffffffffff88
  la t0, ld_data + 16
  lb t2, -16(t0)
  CHECK "lb negative offset", t2, 0x0
  la t0, ld_data - 2000
  lb t2, 2003(t0)
  CHECK "lb offset 2003", t2, 0xffffffffffffffff
  la t0, ld_data + 2048
  lb t2, -2048(t0)
  CHECK "lb offset -2048", t2, 0x0
  la t0, ld_data
  lb t0, 1(t0)
  CHECK "lb rd=rs1", t0, 0xffffffffffffff81
  la t0, ld_data
  lb x0, 3(t0)
  CHECK "lb rd=x0", x0, 0
  /* lbu */
  TEST_LD lbu, 0, 0x0
  TEST_LD lbu, 1, 0x81
  TEST_LD lbu, 2, 0x7f
  TEST_LD lbu, 3, 0xff
  TEST_LD lbu, 4, 0x80
  TEST_LD lbu, 5, 0x1
  TEST_LD lbu, 6, 0xfe
  TEST_LD lbu, 7, 0x42
  TEST_LD lbu, 8, 0x11
  TEST_LD lbu, 9, 0x92
  TEST_LD lbu, 10, 0x33
  TEST_LD lbu, 11, 0xc4
  TEST_LD lbu, 12, 0x55
  TEST_LD lbu, 13, 0xe6
  TEST_LD lbu, 14, 0x77
  TEST_LD lbu, 15, 0x88
  la t0, ld_data + 16
  lbu t2, -16(t0)
  CHECK "lbu negative offset", t2, 0x0
  la t0, ld_data - 2000
  lbu t2, 2003(t0)
  CHECK "lbu offset 2003", t2, 0xff
  la t0, ld_data + 2048
  lbu t2, -2048(t0)
  CHECK "lbu offset -2048", t2, 0x0
  la t0, ld_data
  lbu t0, 1(t0)
  CHECK "lbu rd=rs1", t0, 0x81
  la t0, ld_data
  lbu x0, 3(t0)
  CHECK "lbu rd=x0", x0, 0
  /* lh */
  TEST_LD lh, 0, 0xffffffffffff8100
  TEST_LD lh, 1, 0x7f81
  TEST_LD lh, 2, 0xffffffffffffff7f
  TEST_LD lh, 3, 0xffffffffffff80ff
  TEST_LD lh, 4, 0x180
  TEST_LD lh, 5, 0xfffffffffffffe01
  TEST_LD lh, 6, 0x42fe
  TEST_LD lh, 7, 0x1142
  TEST_LD lh, 8, 0xffffffffffff9211
  la t0, ld_data + 16
  lh t2, -16(t0)
  CHECK "lh negative offset", t2, 0xffffffffffff8100
  la t0, ld_data - 2000
  lh t2, 2003(t0)
  CHECK "lh offset 2003", t2, 0xffffffffffff80ff
  la t0, ld_data + 2048
  lh t2, -2048(t0)
  CHECK "lh offset -2048", t2, 0xffffffffffff8100
  la t0, ld_data
  lh t0, 1(t0)
  CHECK "lh rd=rs1", t0, 0x7f81
  la t0, ld_data
  lh x0, 3(t0)
  CHECK "lh rd=x0", x0, 0
  /* lhu */
  TEST_LD lhu, 0, 0x8100
  TEST_LD lhu, 1, 0x7f81
  TEST_LD lhu, 2, 0xff7f
  TEST_LD lhu, 3, 0x80ff
  TEST_LD lhu, 4, 0x180
  TEST_LD lhu, 5, 0xfe01
  TEST_LD lhu, 6, 0x42fe
  TEST_LD lhu, 7, 0x1142
  TEST_LD lhu, 8, 0x9211
  la t0, ld_data + 16
  lhu t2, -16(t0)
  CHECK "lhu negative offset", t2, 0x8100
  la t0, ld_data - 2000
  lhu t2, 2003(t0)
  CHECK "lhu offset 2003", t2, 0x80ff
  la t0, ld_data + 2048
  lhu t2, -2048(t0)
  CHECK "lhu offset -2048", t2, 0x8100
  la t0, ld_data
  lhu t0, 1(t0)
  CHECK "lhu rd=rs1", t0, 0x7f81
  la t0, ld_data
  lhu x0, 3(t0)
  CHECK "lhu rd=x0", x0, 0
  /* lw */
  TEST_LD lw, 0, 0xffffffffff7f8100
  TEST_LD lw, 1, 0xffffffff80ff7f81
  TEST_LD lw, 2, 0x180ff7f
  TEST_LD lw, 3, 0xfffffffffe0180ff
  TEST_LD lw, 4, 0x42fe0180
  TEST_LD lw, 5, 0x1142fe01
  TEST_LD lw, 6, 0xffffffff921142fe
  TEST_LD lw, 7, 0x33921142
  TEST_LD lw, 8, 0xffffffffc4339211
  la t0, ld_data + 16
  lw t2, -16(t0)
  CHECK "lw negative offset", t2, 0xffffffffff7f8100
  la t0, ld_data - 2000
  lw t2, 2003(t0)
  CHECK "lw offset 2003", t2, 0xfffffffffe0180ff
  la t0, ld_data + 2048
  lw t2, -2048(t0)
  CHECK "lw offset -2048", t2, 0xffffffffff7f8100
  la t0, ld_data
  lw t0, 1(t0)
  CHECK "lw rd=rs1", t0, 0xffffffff80ff7f81
  la t0, ld_data
  lw x0, 3(t0)
  CHECK "lw rd=x0", x0, 0
  /* lwu */
  TEST_LD lwu, 0, 0xff7f8100
  TEST_LD lwu, 1, 0x80ff7f81
  TEST_LD lwu, 2, 0x180ff7f
  TEST_LD lwu, 3, 0xfe0180ff
  TEST_LD lwu, 4, 0x42fe0180
  TEST_LD lwu, 5, 0x1142fe01
  TEST_LD lwu, 6, 0x921142fe
  TEST_LD lwu, 7, 0x33921142
  TEST_LD lwu, 8, 0xc4339211
  la t0, ld_data + 16
  lwu t2, -16(t0)
  CHECK "lwu negative offset", t2, 0xff7f8100
  la t0, ld_data - 2000
  lwu t2, 2003(t0)
  CHECK "lwu offset 2003", t2, 0xfe0180ff
  la t0, ld_data + 2048
  lwu t2, -2048(t0)
  CHECK "lwu offset -2048", t2, 0xff7f8100
  la t0, ld_data
  lwu t0, 1(t0)
  CHECK "lwu rd=rs1", t0, 0x80ff7f81
  la t0, ld_data
  lwu x0, 3(t0)
  CHECK "lwu rd=x0", x0, 0
  /* ld */
  TEST_LD ld, 0, 0x42fe0180ff7f8100
  TEST_LD ld, 1, 0x1142fe0180ff7f81
  TEST_LD ld, 2, 0x921142fe0180ff7f
  TEST_LD ld, 3, 0x33921142fe0180ff
  TEST_LD ld, 4, 0xc433921142fe0180
  TEST_LD ld, 5, 0x55c433921142fe01
  TEST_LD ld, 6, 0xe655c433921142fe
  TEST_LD ld, 7, 0x77e655c433921142
  TEST_LD ld, 8, 0x8877e655c4339211
  la t0, ld_data + 16
  ld t2, -16(t0)
  CHECK "ld negative offset", t2, 0x42fe0180ff7f8100
  la t0, ld_data - 2000
  ld t2, 2003(t0)
  CHECK "ld offset 2003", t2, 0x33921142fe0180ff
  la t0, ld_data + 2048
  ld t2, -2048(t0)
  CHECK "ld offset -2048", t2, 0x42fe0180ff7f8100
  la t0, ld_data
  ld t0, 1(t0)
  CHECK "ld rd=rs1", t0, 0x1142fe0180ff7f81
  la t0, ld_data
  ld x0, 3(t0)
  CHECK "ld rd=x0", x0, 0
  /* sb */
  TEST_ST sb, 0, 0xa5a5a5a5a5a5a5ef, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 1, 0xa5a5a5a5a5a5efa5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 2, 0xa5a5a5a5a5efa5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 3, 0xa5a5a5a5efa5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 4, 0xa5a5a5efa5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 5, 0xa5a5efa5a5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 6, 0xa5efa5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 7, 0xefa5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sb, 8, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5ef, 0xa5a5a5a5a5a5a5a5
  la t0, st_area + 24
  sd zero, -24(t0)
  li t1, -1
  sb t1, -24(t0)
  ld t2, -24(t0)
  CHECK "sb negative offset", t2, 0xff
  li t1, -1
  sd t1, -24(t0)
  sb x0, -24(t0)
  ld t2, -24(t0)
  CHECK "sb of x0 stores zero", t2, 0xffffffffffffff00
  /* sh */
  TEST_ST sh, 0, 0xa5a5a5a5a5a5cdef, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 1, 0xa5a5a5a5a5cdefa5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 2, 0xa5a5a5a5cdefa5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 3, 0xa5a5a5cdefa5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 4, 0xa5a5cdefa5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 5, 0xa5cdefa5a5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 6, 0xcdefa5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 7, 0xefa5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5cd, 0xa5a5a5a5a5a5a5a5
  TEST_ST sh, 8, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5cdef, 0xa5a5a5a5a5a5a5a5
  la t0, st_area + 24
  sd zero, -24(t0)
  li t1, -1
  sh t1, -24(t0)
  ld t2, -24(t0)
  CHECK "sh negative offset", t2, 0xffff
  li t1, -1
  sd t1, -24(t0)
  sh x0, -24(t0)
  ld t2, -24(t0)
  CHECK "sh of x0 stores zero", t2, 0xffffffffffff0000
  /* sw */
  TEST_ST sw, 0, 0xa5a5a5a589abcdef, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 1, 0xa5a5a589abcdefa5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 2, 0xa5a589abcdefa5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 3, 0xa589abcdefa5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 4, 0x89abcdefa5a5a5a5, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 5, 0xabcdefa5a5a5a5a5, 0xa5a5a5a5a5a5a589, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 6, 0xcdefa5a5a5a5a5a5, 0xa5a5a5a5a5a589ab, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 7, 0xefa5a5a5a5a5a5a5, 0xa5a5a5a5a589abcd, 0xa5a5a5a5a5a5a5a5
  TEST_ST sw, 8, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a589abcdef, 0xa5a5a5a5a5a5a5a5
  la t0, st_area + 24
  sd zero, -24(t0)
  li t1, -1
  sw t1, -24(t0)
  ld t2, -24(t0)
  CHECK "sw negative offset", t2, 0xffffffff
  li t1, -1
  sd t1, -24(t0)
  sw x0, -24(t0)
  ld t2, -24(t0)
  CHECK "sw of x0 stores zero", t2, 0xffffffff00000000
  /* sd */
  TEST_ST sd, 0, 0x123456789abcdef, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 1, 0x23456789abcdefa5, 0xa5a5a5a5a5a5a501, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 2, 0x456789abcdefa5a5, 0xa5a5a5a5a5a50123, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 3, 0x6789abcdefa5a5a5, 0xa5a5a5a5a5012345, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 4, 0x89abcdefa5a5a5a5, 0xa5a5a5a501234567, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 5, 0xabcdefa5a5a5a5a5, 0xa5a5a50123456789, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 6, 0xcdefa5a5a5a5a5a5, 0xa5a50123456789ab, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 7, 0xefa5a5a5a5a5a5a5, 0xa50123456789abcd, 0xa5a5a5a5a5a5a5a5
  TEST_ST sd, 8, 0xa5a5a5a5a5a5a5a5, 0x123456789abcdef, 0xa5a5a5a5a5a5a5a5
  la t0, st_area + 24
  sd zero, -24(t0)
  li t1, -1
  sd t1, -24(t0)
  ld t2, -24(t0)
  CHECK "sd negative offset", t2, 0xffffffffffffffff
  li t1, -1
  sd t1, -24(t0)
  sd x0, -24(t0)
  ld t2, -24(t0)
  CHECK "sd of x0 stores zero", t2, 0x0
  /* store then load the same address, through a different width */
  la t0, st_area
  li t1, 0x8899aabbccddeeff
  sd t1, 0(t0)
  lw t2, 4(t0)
  CHECK "sd then lw upper", t2, 0xffffffff8899aabb
  lhu t2, 3(t0)
  CHECK "sd then lhu misaligned", t2, 0xbbcc
  sh t1, 7(t0)
  ld t2, 0(t0)
  CHECK "sh across a dword boundary, low dword", t2, 0xff99aabbccddeeff
  lbu t2, 8(t0)
  CHECK "sh across a dword boundary, next byte", t2, 0xee
  CHECK_NO_TRAP "no trap for misaligned loads and stores"
TEST_END
