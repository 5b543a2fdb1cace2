/**
 * popek's embedding API (`import { ProcessVm } from "popek"`): the process VM, which runs a RISC-V Linux program
 * from bytes with given argv and environment, an in-memory (MemFs) or host-backed file system, captured or host
 * stdio, and limits. Platform-neutral: Node backends (HostFs, NodeStdio) are in "popek/node".
 */
export {
  BufferStdio,
  type DirEntry,
  type FileHandle,
  type FileSystem,
  MemFs,
  ProcessVm,
  ProcessVmError,
  type ProcessVmExit,
  type ProcessVmOptions,
  type ProcessVmResult,
  type Stat,
  type StdioHost,
} from "./core/uvm/process-vm.ts";
