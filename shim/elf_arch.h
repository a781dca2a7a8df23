/* elf_arch.h - the per-architecture ELF numbers interpose.c needs.
 *
 * TXC_R_JUMP_SLOT and TXC_R_GLOB_DAT are the relocation types that fill a
 * GOT slot with the address of a symbol: the PLT slot of a call, and the
 * slot read by -fno-plt calls and by code that takes a function's address.
 * TXC_R_ABS is the plain word relocation of data (a static table holding
 * &f: `struct ops ops = { f };` in a PIE or a library).
 * TXC_R_COPY is a program's copy of a library's data object, made by the
 * loader before any constructor runs (the words a library's relocations
 * filled are copied too: interpose.c patches the copy at the same offsets).
 * TXC_EM_NATIVE is the e_machine of this architecture's ELF files (for
 * `txcache check`, which reads them from disk).
 * Porting to another architecture means adding its numbers here.
 */
#ifndef TXC_ELF_ARCH_H
#define TXC_ELF_ARCH_H

#include <elf.h>
#include <link.h>

#if __ELF_NATIVE_CLASS == 64
#define TXC_R_SYM(info)	 ELF64_R_SYM(info)
#define TXC_R_TYPE(info) ELF64_R_TYPE(info)
#else
#define TXC_R_SYM(info)	 ELF32_R_SYM(info)
#define TXC_R_TYPE(info) ELF32_R_TYPE(info)
#endif

#if defined(__x86_64__)
#define TXC_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define TXC_R_GLOB_DAT	R_X86_64_GLOB_DAT
#define TXC_R_ABS	R_X86_64_64
#define TXC_R_COPY	R_X86_64_COPY
#define TXC_EM_NATIVE	EM_X86_64
#elif defined(__aarch64__)
#define TXC_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define TXC_R_GLOB_DAT	R_AARCH64_GLOB_DAT
#define TXC_R_ABS	R_AARCH64_ABS64
#define TXC_R_COPY	R_AARCH64_COPY
#define TXC_EM_NATIVE	EM_AARCH64
#elif defined(__i386__)
#define TXC_R_JUMP_SLOT R_386_JMP_SLOT
#define TXC_R_GLOB_DAT	R_386_GLOB_DAT
#define TXC_R_ABS	R_386_32
#define TXC_R_COPY	R_386_COPY
#define TXC_EM_NATIVE	EM_386
#elif defined(__arm__)
#define TXC_R_JUMP_SLOT R_ARM_JUMP_SLOT
#define TXC_R_GLOB_DAT	R_ARM_GLOB_DAT
#define TXC_R_ABS	R_ARM_ABS32
#define TXC_R_COPY	R_ARM_COPY
#define TXC_EM_NATIVE	EM_ARM
#elif defined(__riscv) && __riscv_xlen == 64
/* RISC-V has no GLOB_DAT: GOT entries are plain word relocations. */
#define TXC_R_JUMP_SLOT R_RISCV_JUMP_SLOT
#define TXC_R_GLOB_DAT	R_RISCV_64
#define TXC_R_ABS	R_RISCV_64
#define TXC_R_COPY	R_RISCV_COPY
#define TXC_EM_NATIVE	EM_RISCV
#else
#error "txcache: add this architecture's JUMP_SLOT/GLOB_DAT numbers to shim/elf_arch.h"
#endif

#endif
