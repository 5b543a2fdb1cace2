// The guest files the boot tests run: ../shared/images (or $POPEK_IMAGES) when it holds them, a prebuilt cache;
// otherwise the project's own default image set, built first if missing (tests/image/default-image.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultImage } from "../image/default-image.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const IMAGES = process.env.POPEK_IMAGES ?? join(ROOT, "../shared/images");
const shared = existsSync(join(IMAGES, "Image")) && existsSync(join(IMAGES, "initramfs.cpio.gz"));
const own = shared ? undefined : await defaultImage();

/** Kernel Image. */
export const KERNEL = own?.kernelPath ?? join(IMAGES, "Image");
/** gzip-compressed initramfs. */
export const INITRD = own?.initrdPath ?? join(IMAGES, "initramfs.cpio.gz");
/** The uncompressed initramfs when there is one (faster to boot), else the compressed one. */
export const INITRD_FAST =
  own === undefined && existsSync(join(IMAGES, "initramfs.cpio")) ? join(IMAGES, "initramfs.cpio") : INITRD;
/** The ext4 root disk: `gz` true when it is gzip-compressed (the prebuilt set ships rootfs.ext4.gz). */
export const ROOTFS =
  own === undefined ? { path: join(IMAGES, "rootfs.ext4.gz"), gz: true } : { path: own.diskPath, gz: false };
