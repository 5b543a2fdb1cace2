/**
 * Disassembler cases checked by hand against riscv64-linux-gnu-objdump 2.40 -d. The exhaustive comparison with
 * objdump itself is tests/isa/objdump.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CSR } from "./csr.ts";
import { type Decoded, decode } from "./decode.ts";
import { csrText, DisasmContext, type DisasmOptions, disassemble, objdumpAddrWidth, objdumpLine } from "./disasm.ts";
import { INSNS } from "./table.ts";

/** Decode a 16-bit (value ≤ 0xffff with low bits ≠ 11) or 32-bit instruction. */
const dec = (bits: number): Decoded => decode(bits & 0xffff, bits >>> 16);
const dis = (bits: number, pc = 0n, opts?: DisasmOptions): string => disassemble(dec(bits), pc, opts);

test("32-bit instructions and the pseudo-instructions objdump prefers", () => {
  const cases: [number, string][] = [
    [0xff010113, "add\tsp,sp,-16"], // objdump 2.40 prints addi with a non-zero immediate as `add`
    [0x00000013, "nop"],
    [0x00500513, "li\ta0,5"],
    [0x00040513, "mv\ta0,s0"],
    [0x12345537, "lui\ta0,0x12345"],
    [0x00000597, "auipc\ta1,0x0"],
    [0x0ff5f513, "zext.b\ta0,a1"],
    [0xfff5c513, "not\ta0,a1"],
    [0x0015b513, "seqz\ta0,a1"],
    [0x00b03533, "snez\ta0,a1"],
    [0x0005b533, "sltu\ta0,a1,zero"],
    [0x00002533, "sltz\ta0,zero"],
    [0x40b00533, "neg\ta0,a1"],
    [0x40000033, "neg\tzero,zero"],
    [0x0005851b, "sext.w\ta0,a1"],
    [0x01f5151b, "sllw\ta0,a0,0x1f"], // slliw
    [0x03f51513, "sll\ta0,a0,0x3f"], // slli
    [0x00a5a513, "slti\ta0,a1,10"],
    [0x0080006f, "j\t8"],
    [0x008000ef, "jal\t8"],
    [0x0080056f, "jal\ta0,8"],
    [0x00008067, "ret"],
    [0x00050067, "jr\ta0"],
    [0x00c50067, "jr\t12(a0)"],
    [0x000500e7, "jalr\ta0"],
    [0x000580e7, "jalr\ta1"],
    [0x00058567, "jalr\ta0,a1"],
    [0x00853503, "ld\ta0,8(a0)"],
    [0xfea5bc23, "sd\ta0,-8(a1)"],
    [0x0ff0000f, "fence"],
    [0x0330000f, "fence\trw,rw"],
    [0x0a50000f, "fence\tir,ow"],
    [0x0100000f, "fence\tw,unknown"], // Zihintpause `pause`, not in the objects' ISA string
    [0x8330000f, "fence.tso"],
    [0x0000100f, "fence.i"],
    [0x00000073, "ecall"],
    [0x00100073, "ebreak"],
    [0x30200073, "mret"],
    [0x10200073, "sret"],
    [0x10500073, "wfi"],
    [0x12000073, "sfence.vma"],
    [0x12050073, "sfence.vma\ta0"],
    [0x12b00073, "sfence.vma\tzero,a1"],
    [0x12b50073, "sfence.vma\ta0,a1"],
    [0x02b50533, "mul\ta0,a0,a1"],
    [0x02b5453b, "divw\ta0,a0,a1"],
    [0x1605a52f, "lr.w.aqrl\ta0,(a1)"],
    [0x1ac5b52f, "sc.d.rl\ta0,a2,(a1)"],
    [0x04c5a52f, "amoadd.w.aq\ta0,a2,(a1)"],
    [0x00c5b52f, "amoadd.d\ta0,a2,(a1)"],
  ];
  for (const [bits, text] of cases) assert.equal(dis(bits), text, bits.toString(16));
});

test("CSR instructions use objdump's aliases and names", () => {
  const cases: [number, string][] = [
    [0x30002573, "csrr\ta0,mstatus"],
    [0x30051073, "csrw\tmstatus,a0"],
    [0x30452073, "csrs\tmie,a0"],
    [0x34453073, "csrc\tmip,a0"],
    [0x30045073, "csrw\tmstatus,8"], // csrrwi with rd = zero
    [0x30045573, "csrrw\ta0,mstatus,8"], // objdump never prints csrrwi…
    [0x300fe573, "csrrs\ta0,mstatus,31"],
    [0x30007573, "csrrc\ta0,mstatus,0"],
    [0x30002073, "csrr\tzero,mstatus"],
    [0x34059573, "csrrw\ta0,mscratch,a1"],
    [0xc0002573, "rdcycle\ta0"],
    [0xc0102573, "rdtime\ta0"],
    [0xc0202573, "rdinstret\ta0"],
    [0xc0002073, "rdcycle\tzero"],
    [0xc0103573, "csrrc\ta0,time,zero"],
    [0xc8002573, "csrr\ta0,cycleh"],
    [0x00102573, "frflags\ta0"], // the F aliases come first
    [0x00359073, "fscsr\ta1"],
    [0x0021d573, "fsrmi\ta0,3"],
    [0x0035a573, "csrrs\ta0,fcsr,a1"],
    [0x7c002573, "csrr\ta0,0x7c0"],
    [0xc0001073, "unimp"],
  ];
  for (const [bits, text] of cases) assert.equal(dis(bits), text, bits.toString(16));
});

test("CSR names follow the privileged spec version", () => {
  assert.equal(csrText(0x000), "ustatus"); // 1.11, what gcc 12 records in its objects
  assert.equal(csrText(0x000, "1.12"), "0x0");
  assert.equal(csrText(0x102), "sedeleg");
  assert.equal(csrText(0x30a), "0x30a");
  assert.equal(csrText(0x30a, "1.12"), "menvcfg");
  assert.equal(csrText(0x3a3), "pmpcfg3");
  assert.equal(csrText(0x3a4), "0x3a4");
  assert.equal(csrText(0x3a4, "1.12"), "pmpcfg4");
  assert.equal(csrText(0x3ef, "1.12"), "pmpaddr63");
  assert.equal(csrText(0xb83), "mhpmcounter3h");
  assert.equal(dis(0x00059573, 0n, { privSpec: "1.12" }), "csrrw\ta0,0x0,a1");
  // Every CSR popek implements prints under the name popek gives it (csr.ts follows privileged spec 1.12).
  for (const [name, num] of Object.entries(CSR)) assert.equal(csrText(num, "1.12"), name);
});

test("F and D: register names, static rounding modes only, fmv/fneg/fabs", () => {
  const cases: [number, string][] = [
    [0x02c5f553, "fadd.d\tfa0,fa1,fa2"], // dynamic rounding mode: not printed
    [0x02c59553, "fadd.d\tfa0,fa1,fa2,rtz"],
    [0x00208053, "fadd.s\tft0,ft1,ft2,rne"],
    [0x02c5d553, "fadd.d\tfa0,fa1,fa2,unknown"], // reserved rounding mode 5
    [0x6ac5f543, "fmadd.d\tfa0,fa1,fa2,fa3"],
    [0x68c5b543, "fmadd.s\tfa0,fa1,fa2,fa3,rup"],
    [0x5a05a553, "fsqrt.d\tfa0,fa1,rdn"],
    [0x22b58553, "fmv.d\tfa0,fa1"],
    [0x22b59553, "fneg.d\tfa0,fa1"],
    [0x20b5a553, "fabs.s\tfa0,fa1"],
    [0x22c58553, "fsgnj.d\tfa0,fa1,fa2"],
    [0xc2051553, "fcvt.w.d\ta0,fa0,rtz"],
    [0xd2050553, "fcvt.d.w\tfa0,a0"],
    [0x42058553, "fcvt.d.s\tfa0,fa1"],
    [0xd0054553, "fcvt.s.w\tfa0,a0,rmm"],
    [0xe2050553, "fmv.x.d\ta0,fa0"],
    [0xf0050553, "fmv.w.x\tfa0,a0"],
    [0xe2051553, "fclass.d\ta0,fa0"],
    [0xa0b51553, "flt.s\ta0,fa0,fa1"],
    [0xfea13c27, "fsd\tfa0,-8(sp)"],
    [0x7ff52fa7, "fsw\tft11,2047(a0)"],
  ];
  for (const [bits, text] of cases) assert.equal(dis(bits), text, bits.toString(16));
});

test("compressed instructions print as objdump prints them, HINTs included", () => {
  const cases: [number, string][] = [
    [0x1141, "add\tsp,sp,-16"],
    [0x60a2, "ld\tra,8(sp)"],
    [0xe406, "sd\tra,8(sp)"],
    [0x8082, "ret"],
    [0x8502, "jr\ta0"],
    [0x9502, "jalr\ta0"],
    [0x4501, "li\ta0,0"],
    [0x8522, "mv\ta0,s0"],
    [0x952e, "add\ta0,a0,a1"],
    [0x0001, "nop"],
    [0x0000, "unimp"],
    [0x9002, "ebreak"],
    [0x058a, "sll\ta1,a1,0x2"],
    [0x8005, "srl\ts0,s0,0x1"],
    [0x2501, "sext.w\ta0,a0"],
    [0x36fd, "addw\ta3,a3,-1"],
    [0x6705, "lui\ta4,0x1"],
    [0x76fd, "lui\ta3,0xfffff"],
    [0x7119, "add\tsp,sp,-128"],
    [0x0028, "add\ta0,sp,8"],
    [0x4394, "lw\ta3,0(a5)"],
    [0x9f35, "addw\ta4,a4,a3"],
    [0x8d0d, "sub\ta0,a0,a1"],
    [0x0015, "c.nop\t5"], // HINTs
    [0x0501, "add\ta0,a0,0"], // not `mv`, which the 32-bit addi a0,a0,0 would give
    [0x4015, "c.li\tzero,5"],
    [0x6005, "c.lui\tzero,0x1"],
    [0x802a, "c.mv\tzero,a0"],
    [0x902a, "c.add\tzero,a0"],
    [0x000e, "c.slli\tzero,0x3"],
    [0x0502, "c.slli64\ta0"],
    [0x0002, "c.slli64\tzero"],
    [0x8001, "c.srli64\ts0"],
    [0x8401, "c.srai64\ts0"],
    [0x6101, "add\tsp,sp,0"], // reserved (nzimm = 0) but objdump accepts it
    [0x0004, ".2byte\t0x4"], // reserved: c.addi4spn with a zero immediate
    [0x6501, ".2byte\t0x6501"], // c.lui a0, 0
    [0x2001, ".2byte\t0x2001"], // c.addiw zero
    [0x8002, ".2byte\t0x8002"], // c.jr zero
    [0x4002, ".2byte\t0x4002"], // c.lwsp zero
    [0x2000, "fld\tfs0,0(s0)"], // c.fld
    [0x2588, "fld\tfa0,8(a1)"],
    [0xab80, "fsd\tfs0,16(a5)"],
    [0x2022, "fld\tft0,8(sp)"], // c.fldsp: f0 is a valid destination
    [0xbffe, "fsd\tft11,504(sp)"],
  ];
  for (const [bits, text] of cases) assert.equal(dis(bits), text, bits.toString(16));
});

test("words objdump does not know, and those it knows that popek does not execute", () => {
  assert.equal(dis(0x0000000b), ".4byte\t0xb");
  assert.equal(dis(0x0010100f), ".4byte\t0x10100f"); // fence.i with imm ≠ 0: popek executes it, objdump has no entry
  assert.equal(dis(0x1330000f), ".4byte\t0x1330000f"); // fence with fm = 1
  assert.equal(dis(0x833000af), ".4byte\t0x833000af"); // fence.tso with rd ≠ 0
  assert.equal(dis(0x42059553), ".4byte\t0x42059553"); // fcvt.d.s with rm ≠ 0: popek executes it, objdump no
  assert.equal(dis(0x00200073), "uret");
  assert.equal(dis(0x20200073), "hret");
  assert.equal(dis(0x7b200073), "dret");
  assert.equal(dis(0x10400073), "sfence.vm");
  assert.equal(dis(0x10458073), "sfence.vm\ta1");
  // Every table entry's own match value is an instruction objdump names.
  for (const s of INSNS) assert.doesNotMatch(dis(s.match), /^\.4byte/, s.name);
});

test("branch and jump targets are absolute, decorated by the symbol lookup", () => {
  assert.equal(dis(0x02b05063, 0n), "blez\ta1,20");
  const symbol = (a: bigint): string | undefined => (a === 0x20n ? ".L4" : a === 0xen ? ".L3" : undefined);
  assert.equal(dis(0x02b05063, 0n, { symbol }), "blez\ta1,20 <.L4>");
  assert.equal(dis(0xfec79ae3, 0x1an, { symbol }), "bne\ta5,a2,e <.L3>");
  assert.equal(dis(0xa001, 0x5cn, { symbol: (a) => `.text+0x${a.toString(16)}` }), "j\t5c <.text+0x5c>");
  assert.equal(dis(0xbffd, 0x80000002n), "j\t80000000");
  assert.equal(dis(0x80000063, 0xaccn), "beqz\tzero,fffffffffffffacc"); // wraps below zero as a 64-bit address
  assert.equal(dis(0x8000006f, 0xad4n), "j\tfffffffffff00ad4");
});

test("lui/auipc values are remembered, as objdump does, and printed where used", () => {
  const ctx = new DisasmContext();
  assert.equal(dis(0x12345537, 0x1cn, { context: ctx }), "lui\ta0,0x12345");
  assert.equal(dis(0x67850513, 0x20n, { context: ctx }), "add\ta0,a0,1656 # 12345678");
  assert.equal(dis(0x00150513, 0x24n, { context: ctx }), "add\ta0,a0,1"); // consumed
  assert.equal(dis(0x00000597, 0x24n, { context: ctx }), "auipc\ta1,0x0");
  assert.equal(dis(0x6990, 0x28n, { context: ctx }), "ld\ta2,16(a1)"); // compressed loads never look
  assert.equal(dis(0x0105b603, 0x2an, { context: ctx }), "ld\ta2,16(a1) # 34");
  assert.equal(dis(0x01023603, 0x2an, { context: ctx }), "ld\ta2,16(tp) # 10"); // tp and zero need no lui
  assert.equal(dis(0x00c03423, 0x36n, { context: ctx }), "sd\ta2,8(zero) # 8");
  assert.equal(dis(0x01000567, 0x3an, { context: ctx }), "jalr\ta0,16(zero) # 10");
  assert.equal(dis(0x76fd, 0x3en, { context: ctx }), "lui\ta3,0xfffff");
  assert.equal(dis(0x36fd, 0x40n, { context: ctx }), "addw\ta3,a3,-1 # ffffffffffffefff");
  assert.equal(dis(0x000080e7, 0x32n, { symbol: () => "g+0xa", context: ctx }), "jalr\tra");
  assert.equal(dis(0x00000097, 0x2en, { context: ctx }), "auipc\tra,0x0");
  assert.equal(dis(0x000080e7, 0x32n, { symbol: () => "g+0xa", context: ctx }), "jalr\tra # 2e <g+0xa>");
  // Without a context each call starts afresh.
  assert.equal(dis(0x67850513, 0x20n), "add\ta0,a0,1656");
  // With a known global pointer, gp-relative addresses are resolved too.
  assert.equal(dis(0x0081b503, 0n, { context: new DisasmContext(0x1000n) }), "ld\ta0,8(gp) # 1008");
});

test("whole objdump lines", () => {
  assert.equal(objdumpLine(dec(0x1141), 8n), "   8:\t1141                \tadd\tsp,sp,-16");
  assert.equal(objdumpLine(dec(0xff010113), 0xcn), "   c:\tff010113          \tadd\tsp,sp,-16");
  assert.equal(objdumpLine(dec(0x0004), 0x10n), "  10:\t0004                \t.2byte\t0x4");
  assert.equal(
    objdumpLine(dec(0xbffd), 0x80000002n, { addrWidth: objdumpAddrWidth(0x80000004n), symbol: () => "_start" }),
    "    80000002:\tbffd                \tj\t80000000 <_start>",
  );
  assert.equal(objdumpAddrWidth(0x5en), 4);
  assert.equal(objdumpAddrWidth(0xfffn), 4);
  assert.equal(objdumpAddrWidth(0x1004n), 8);
  assert.equal(objdumpAddrWidth(0x1f51an), 8);
  assert.equal(objdumpAddrWidth(0x80000004n), 12);
  assert.equal(objdumpAddrWidth(0xffffffff80000000n), 16);
});
