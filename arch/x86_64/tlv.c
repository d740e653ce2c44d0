/*
 * x86_64/tlv.c — thread-local access stubs for x86-64: the getter that Mach-O thread-local
 * variable descriptors call, the TLSDESC resolvers of ELF objects, and the thread pointer.
 *
 * Code compiled for macOS reads a __thread variable with
 *     movq _var@TLVP(%rip), %rdi ; call *(%rdi)      → %rax = the variable's address
 * and assumes the call changes nothing but %rax: every other register, the vector registers
 * and the flags stay live across it. So this getter saves all of them (the vector state with
 * XSAVE, sized by CPUID for the features the OS enabled), calls the C side
 * (macho_tlv_address in loader/macho/macho_tlv.c) and restores them.
 */
#include "arch.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* Bytes XSAVE needs for the state components the OS enabled (CPUID.(0DH,0):EBX). 0: no XSAVE,
 * the getter uses FXSAVE (512 bytes). Set once by arch_tlv_init, before any getter runs. */
__attribute__((visibility("hidden"))) unsigned long plugin_tlv_xsave_size;

/* Called with the load lock held, each time a module with thread-locals is registered; only the
 * first call writes: later ones would store into plugin_tlv_xsave_size while getters of
 * earlier modules read it in other threads (the same value, but a data race all the same). */
void arch_tlv_init(void)
{
    static int done;
    unsigned a, b, c, d;
    if (done)
        return;
    done = 1;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27)) && __get_cpuid_count(0xd, 0, &a, &b, &c, &d))
        plugin_tlv_xsave_size = b;
}

#define SAVE_ALL_AND_CALL(NAME, CALLEE) \
    __asm__( \
    "    .text\n" \
    "    .globl " NAME "\n" \
    "    .hidden " NAME "\n" \
    "    .type " NAME ", @function\n" \
    "" NAME ":\n" \
    "    pushq %rbp\n" \
    "    movq %rsp, %rbp\n" \
    "    pushfq\n"                              /* -8(%rbp) */ \
    "    pushq %rcx\n" \
    "    pushq %rdx\n" \
    "    pushq %rsi\n" \
    "    pushq %rdi\n"                          /* -40(%rbp): the descriptor */ \
    "    pushq %r8\n" \
    "    pushq %r9\n" \
    "    pushq %r10\n" \
    "    pushq %r11\n"                          /* -72(%rbp) */ \
    "    movq plugin_tlv_xsave_size(%rip), %rcx\n" \
    "    testq %rcx, %rcx\n" \
    "    jz 1f\n" \
    "    subq %rcx, %rsp\n" \
    "    andq $-64, %rsp\n" \
    "    xorl %eax, %eax\n"                     /* XSAVE header (bytes 512..575) must start zeroed */ \
    "    movq %rax, 512(%rsp)\n" \
    "    movq %rax, 520(%rsp)\n" \
    "    movq %rax, 528(%rsp)\n" \
    "    movq %rax, 536(%rsp)\n" \
    "    movq %rax, 544(%rsp)\n" \
    "    movq %rax, 552(%rsp)\n" \
    "    movq %rax, 560(%rsp)\n" \
    "    movq %rax, 568(%rsp)\n" \
    "    movl $-1, %eax\n" \
    "    movl $-1, %edx\n" \
    "    xsave (%rsp)\n" \
    "    movq -40(%rbp), %rdi\n" \
    "    call " CALLEE "\n" \
    "    movq %rax, %rsi\n" \
    "    movl $-1, %eax\n" \
    "    movl $-1, %edx\n" \
    "    xrstor (%rsp)\n" \
    "    movq %rsi, %rax\n" \
    "    jmp 2f\n" \
    "1:  subq $512, %rsp\n"                     /* no XSAVE: FXSAVE covers x87, MMX, XMM, MXCSR */ \
    "    andq $-16, %rsp\n" \
    "    fxsave64 (%rsp)\n" \
    "    call " CALLEE "\n" \
    "    fxrstor64 (%rsp)\n" \
    "2:  leaq -72(%rbp), %rsp\n" \
    "    popq %r11\n" \
    "    popq %r10\n" \
    "    popq %r9\n" \
    "    popq %r8\n" \
    "    popq %rdi\n" \
    "    popq %rsi\n" \
    "    popq %rdx\n" \
    "    popq %rcx\n" \
    "    popfq\n" \
    "    popq %rbp\n" \
    "    ret\n" \
    "    .size " NAME ", .-" NAME "\n")

/* Mach-O: descriptor->thunk(descriptor) → this thread's address of the variable. */
SAVE_ALL_AND_CALL("plugin_macho_tlv_get", "macho_tlv_address");
/* ELF: the same, for a TLS descriptor (elf_tls.c) → this thread's address. */
SAVE_ALL_AND_CALL("plugin_elf_tls_get", "elf_tlsdesc_address");

/*
 * TLSDESC resolvers (R_X86_64_TLSDESC): called with %rax = the descriptor, they return in %rax
 * the variable's offset from the thread pointer and change nothing else but the flags.
 * Static: the offset was computed at load (a module in glibc's static TLS). Dynamic: our module,
 * whose block is made on the thread's first access.
 */
__asm__(
    "    .text\n"
    "    .globl plugin_tlsdesc_static\n"
    "    .hidden plugin_tlsdesc_static\n"
    "    .type plugin_tlsdesc_static, @function\n"
    "plugin_tlsdesc_static:\n"
    "    movq 8(%rax), %rax\n"
    "    ret\n"
    "    .size plugin_tlsdesc_static, .-plugin_tlsdesc_static\n"
    "    .globl plugin_tlsdesc_dynamic\n"
    "    .hidden plugin_tlsdesc_dynamic\n"
    "    .type plugin_tlsdesc_dynamic, @function\n"
    "plugin_tlsdesc_dynamic:\n"
    "    pushq %rdi\n"
    "    movq %rax, %rdi\n"
    "    call plugin_elf_tls_get\n"
    "    subq %fs:0, %rax\n"
    "    popq %rdi\n"
    "    ret\n"
    "    .size plugin_tlsdesc_dynamic, .-plugin_tlsdesc_dynamic\n");

uintptr_t arch_thread_pointer(void)
{
    uintptr_t tp;
    __asm__("movq %%fs:0, %0" : "=r"(tp));
    return tp;
}
#endif
