/**
 * Linux riscv64 user ABI facts the process VM needs: errno values, the generic syscall table's numbers and names
 * (include/uapi/asm-generic/unistd.h), open/mmap/clone/wait flags, signal numbers and the auxv tags
 * (include/uapi/linux/auxvec.h). Numbers only; behaviour lives in the files that use them.
 */

/** errno values (include/uapi/asm-generic/errno-base.h, errno.h). Syscalls return their negation. */
export const E = {
  PERM: 1,
  NOENT: 2,
  SRCH: 3,
  INTR: 4,
  IO: 5,
  NXIO: 6,
  TOOBIG: 7,
  NOEXEC: 8,
  BADF: 9,
  CHILD: 10,
  AGAIN: 11,
  NOMEM: 12,
  ACCES: 13,
  FAULT: 14,
  BUSY: 16,
  EXIST: 17,
  XDEV: 18,
  NODEV: 19,
  NOTDIR: 20,
  ISDIR: 21,
  INVAL: 22,
  NFILE: 23,
  MFILE: 24,
  NOTTY: 25,
  TXTBSY: 26,
  FBIG: 27,
  NOSPC: 28,
  SPIPE: 29,
  ROFS: 30,
  MLINK: 31,
  PIPE: 32,
  DOM: 33,
  RANGE: 34,
  DEADLK: 35,
  NAMETOOLONG: 36,
  NOSYS: 38,
  NOTEMPTY: 39,
  LOOP: 40,
  NODATA: 61,
  OVERFLOW: 75,
  NOTSOCK: 88,
  OPNOTSUPP: 95,
  AFNOSUPPORT: 97,
  TIMEDOUT: 110,
} as const;

/** Host errno names (Node's `code`) to Linux numbers. */
export const ERRNO_BY_NAME: Readonly<Record<string, number>> = {
  EPERM: E.PERM,
  ENOENT: E.NOENT,
  EINTR: E.INTR,
  EIO: E.IO,
  ENXIO: E.NXIO,
  E2BIG: E.TOOBIG,
  EBADF: E.BADF,
  EAGAIN: E.AGAIN,
  ENOMEM: E.NOMEM,
  EACCES: E.ACCES,
  EFAULT: E.FAULT,
  EBUSY: E.BUSY,
  EEXIST: E.EXIST,
  EXDEV: E.XDEV,
  ENODEV: E.NODEV,
  ENOTDIR: E.NOTDIR,
  EISDIR: E.ISDIR,
  EINVAL: E.INVAL,
  EMFILE: E.MFILE,
  ENOTTY: E.NOTTY,
  ETXTBSY: E.TXTBSY,
  EFBIG: E.FBIG,
  ENOSPC: E.NOSPC,
  ESPIPE: E.SPIPE,
  EROFS: E.ROFS,
  EMLINK: E.MLINK,
  EPIPE: E.PIPE,
  ENAMETOOLONG: E.NAMETOOLONG,
  ENOSYS: E.NOSYS,
  ENOTEMPTY: E.NOTEMPTY,
  ELOOP: E.LOOP,
  ENODATA: E.NODATA,
  EOVERFLOW: E.OVERFLOW,
  EOPNOTSUPP: E.OPNOTSUPP,
  ENOTSUP: E.OPNOTSUPP,
};

/** Names of the riscv64 syscalls (asm-generic table plus riscv_flush_icache), for --strace and ENOSYS reports. */
export const SYSCALL_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  (
    "0 io_setup,1 io_destroy,2 io_submit,3 io_cancel,4 io_getevents,5 setxattr,6 lsetxattr,7 fsetxattr,8 getxattr," +
    "9 lgetxattr,10 fgetxattr,11 listxattr,12 llistxattr,13 flistxattr,14 removexattr,15 lremovexattr," +
    "16 fremovexattr,17 getcwd,18 lookup_dcookie,19 eventfd2,20 epoll_create1,21 epoll_ctl,22 epoll_pwait,23 dup," +
    "24 dup3,25 fcntl,26 inotify_init1,27 inotify_add_watch,28 inotify_rm_watch,29 ioctl,30 ioprio_set," +
    "31 ioprio_get,32 flock,33 mknodat,34 mkdirat,35 unlinkat,36 symlinkat,37 linkat,38 renameat,39 umount2,40 mount," +
    "41 pivot_root,42 nfsservctl,43 statfs,44 fstatfs,45 truncate,46 ftruncate,47 fallocate,48 faccessat,49 chdir," +
    "50 fchdir,51 chroot,52 fchmod,53 fchmodat,54 fchownat,55 fchown,56 openat,57 close,58 vhangup,59 pipe2," +
    "60 quotactl,61 getdents64,62 lseek,63 read,64 write,65 readv,66 writev,67 pread64,68 pwrite64,69 preadv," +
    "70 pwritev,71 sendfile,72 pselect6,73 ppoll,74 signalfd4,75 vmsplice,76 splice,77 tee,78 readlinkat," +
    "79 newfstatat,80 fstat,81 sync,82 fsync,83 fdatasync,84 sync_file_range,85 timerfd_create,86 timerfd_settime," +
    "87 timerfd_gettime,88 utimensat,89 acct,90 capget,91 capset,92 personality,93 exit,94 exit_group,95 waitid," +
    "96 set_tid_address,97 unshare,98 futex,99 set_robust_list,100 get_robust_list,101 nanosleep,102 getitimer," +
    "103 setitimer,104 kexec_load,105 init_module,106 delete_module,107 timer_create,108 timer_gettime," +
    "109 timer_getoverrun,110 timer_settime,111 timer_delete,112 clock_settime,113 clock_gettime,114 clock_getres," +
    "115 clock_nanosleep,116 syslog,117 ptrace,118 sched_setparam,119 sched_setscheduler,120 sched_getscheduler," +
    "121 sched_getparam,122 sched_setaffinity,123 sched_getaffinity,124 sched_yield,125 sched_get_priority_max," +
    "126 sched_get_priority_min,127 sched_rr_get_interval,128 restart_syscall,129 kill,130 tkill,131 tgkill," +
    "132 sigaltstack,133 rt_sigsuspend,134 rt_sigaction,135 rt_sigprocmask,136 rt_sigpending,137 rt_sigtimedwait," +
    "138 rt_sigqueueinfo,139 rt_sigreturn,140 setpriority,141 getpriority,142 reboot,143 setregid,144 setgid," +
    "145 setreuid,146 setuid,147 setresuid,148 getresuid,149 setresgid,150 getresgid,151 setfsuid,152 setfsgid," +
    "153 times,154 setpgid,155 getpgid,156 getsid,157 setsid,158 getgroups,159 setgroups,160 uname,161 sethostname," +
    "162 setdomainname,163 getrlimit,164 setrlimit,165 getrusage,166 umask,167 prctl,168 getcpu,169 gettimeofday," +
    "170 settimeofday,171 adjtimex,172 getpid,173 getppid,174 getuid,175 geteuid,176 getgid,177 getegid,178 gettid," +
    "179 sysinfo,180 mq_open,181 mq_unlink,182 mq_timedsend,183 mq_timedreceive,184 mq_notify,185 mq_getsetattr," +
    "186 msgget,187 msgctl,188 msgrcv,189 msgsnd,190 semget,191 semctl,192 semtimedop,193 semop,194 shmget," +
    "195 shmctl,196 shmat,197 shmdt,198 socket,199 socketpair,200 bind,201 listen,202 accept,203 connect," +
    "204 getsockname,205 getpeername,206 sendto,207 recvfrom,208 setsockopt,209 getsockopt,210 shutdown,211 sendmsg," +
    "212 recvmsg,213 readahead,214 brk,215 munmap,216 mremap,217 add_key,218 request_key,219 keyctl,220 clone," +
    "221 execve,222 mmap,223 fadvise64,224 swapon,225 swapoff,226 mprotect,227 msync,228 mlock,229 munlock," +
    "230 mlockall,231 munlockall,232 mincore,233 madvise,234 remap_file_pages,235 mbind,236 get_mempolicy," +
    "237 set_mempolicy,238 migrate_pages,239 move_pages,240 rt_tgsigqueueinfo,241 perf_event_open,242 accept4," +
    "243 recvmmsg,258 riscv_hwprobe,259 riscv_flush_icache,260 wait4,261 prlimit64,262 fanotify_init," +
    "263 fanotify_mark,264 name_to_handle_at,265 open_by_handle_at,266 clock_adjtime,267 syncfs,268 setns," +
    "269 sendmmsg,270 process_vm_readv,271 process_vm_writev,272 kcmp,273 finit_module,274 sched_setattr," +
    "275 sched_getattr,276 renameat2,277 seccomp,278 getrandom,279 memfd_create,280 bpf,281 execveat," +
    "282 userfaultfd,283 membarrier,284 mlock2,285 copy_file_range,286 preadv2,287 pwritev2,288 pkey_mprotect," +
    "289 pkey_alloc,290 pkey_free,291 statx,292 io_pgetevents,293 rseq,424 pidfd_send_signal,425 io_uring_setup," +
    "426 io_uring_enter,427 io_uring_register,434 pidfd_open,435 clone3,436 close_range,437 openat2," +
    "438 pidfd_getfd,439 faccessat2,440 process_madvise,441 epoll_pwait2,448 process_mrelease,449 futex_waitv"
  )
    .split(",")
    .map((s) => {
      const [n, name] = s.split(" ");
      return [Number(n), name!];
    }),
);

/** openat flags (include/uapi/asm-generic/fcntl.h). */
export const O = {
  ACCMODE: 3,
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  LARGEFILE: 0o100000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
  TMPFILE: 0o20000000,
} as const;

/** The *at calls' dirfd meaning "the current directory", and their flags. */
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** d_type values of getdents64. */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

/** mmap / mprotect. */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_STACK = 0x20000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;

/** clone flags (include/uapi/linux/sched.h). */
export const CLONE = {
  VM: 0x100,
  FS: 0x200,
  FILES: 0x400,
  SIGHAND: 0x800,
  PIDFD: 0x1000,
  PTRACE: 0x2000,
  VFORK: 0x4000,
  PARENT: 0x8000,
  THREAD: 0x10000,
  NEWNS: 0x20000,
  SYSVSEM: 0x40000,
  SETTLS: 0x80000,
  PARENT_SETTID: 0x100000,
  CHILD_CLEARTID: 0x200000,
  DETACHED: 0x400000,
  UNTRACED: 0x800000,
  CHILD_SETTID: 0x1000000,
} as const;

/** wait4 options. */
export const WNOHANG = 1;
export const WUNTRACED = 2;

/** Signal numbers (riscv uses the generic ones). */
export const SIG = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
} as const;
/** Highest signal number (real-time signals run to 64). */
export const NSIG = 64;

/** sigaction flags. */
export const SA_NOCLDSTOP = 1;
export const SA_NOCLDWAIT = 2;
export const SA_SIGINFO = 4;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

/** siginfo si_code values. */
export const SI_USER = 0;
export const SI_TKILL = -6;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const ILL_ILLOPC = 1;
export const BUS_ADRALN = 1;
export const TRAP_BRKPT = 1;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

/** Auxiliary vector tags (include/uapi/linux/auxvec.h). */
export const AT = {
  NULL: 0,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  UID: 11,
  EUID: 12,
  GID: 13,
  EGID: 14,
  PLATFORM: 15,
  HWCAP: 16,
  CLKTCK: 17,
  SECURE: 23,
  RANDOM: 25,
  HWCAP2: 26,
  EXECFN: 31,
  SYSINFO_EHDR: 33,
  MINSIGSTKSZ: 51,
} as const;

/** futex operations (include/uapi/linux/futex.h). */
export const FUTEX = {
  WAIT: 0,
  WAKE: 1,
  REQUEUE: 3,
  CMP_REQUEUE: 4,
  WAKE_OP: 5,
  LOCK_PI: 6,
  UNLOCK_PI: 7,
  WAIT_BITSET: 9,
  WAKE_BITSET: 10,
  PRIVATE_FLAG: 128,
  CLOCK_REALTIME: 256,
} as const;

/** Terminal ioctls (include/uapi/asm-generic/ioctls.h). */
export const IOCTL = {
  TCGETS: 0x5401,
  TCSETS: 0x5402,
  TCSETSW: 0x5403,
  TCSETSF: 0x5404,
  TIOCSCTTY: 0x540e,
  TIOCGPGRP: 0x540f,
  TIOCSPGRP: 0x5410,
  TIOCGWINSZ: 0x5413,
  TIOCSWINSZ: 0x5414,
  FIONREAD: 0x541b,
  TIOCNOTTY: 0x5422,
  TIOCGSID: 0x5429,
  FIONBIO: 0x5421,
  FIOCLEX: 0x5451,
  FIONCLEX: 0x5450,
} as const;
