/** Node backends for embedding popek's process VM (`import { HostFs, NodeStdio } from "popek/node"`). */
export { HostFs } from "./host-fs.ts";
export { NodeStdio } from "./uvm-stdio.ts";
