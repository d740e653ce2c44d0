/*
 * aarch64/tlv.c — thread-local access stubs for arm64: the getter that Mach-O thread-local
 * variable descriptors call, the TLSDESC resolvers of ELF objects, and the thread pointer.
 *
 * Code compiled for macOS reads a __thread variable with
 *     adrp x0, _var@TLVPPAGE ; ldr x0, [x0, _var@TLVPPAGEOFF] ; ldr x16, [x0] ; blr x16
 * and assumes the call changes nothing but x0 (the result), x16 and x17: every other general
 * register, all SIMD registers and the flags stay live across it. So this getter saves them,
 * calls the C side (macho_tlv_address in loader/macho/macho_tlv.c) and restores them.
 */
#include "arch.h"

#if defined(__aarch64__)
void arch_tlv_init(void)
{
}

#define SAVE_ALL_AND_CALL(NAME, CALLEE) \
    __asm__( \
    "    .text\n" \
    "    .globl " NAME "\n" \
    "    .hidden " NAME "\n" \
    "    .type " NAME ", %function\n" \
    "" NAME ":\n" \
    "    stp x29, x30, [sp, #-16]!\n" \
    "    mov x29, sp\n" \
    "    sub sp, sp, #672\n"                    /* 18 GPR slots (144) + 32 Q registers (512) + 16 */ \
    "    stp x1, x2, [sp, #0]\n" \
    "    stp x3, x4, [sp, #16]\n" \
    "    stp x5, x6, [sp, #32]\n" \
    "    stp x7, x8, [sp, #48]\n" \
    "    stp x9, x10, [sp, #64]\n" \
    "    stp x11, x12, [sp, #80]\n" \
    "    stp x13, x14, [sp, #96]\n" \
    "    stp x15, x18, [sp, #112]\n" \
    "    mrs x16, nzcv\n" \
    "    mrs x17, fpsr\n" \
    "    stp x16, x17, [sp, #128]\n" \
    "    mrs x16, fpcr\n" \
    "    str x16, [sp, #144]\n" \
    "    stp q0, q1, [sp, #160]\n" \
    "    stp q2, q3, [sp, #192]\n" \
    "    stp q4, q5, [sp, #224]\n" \
    "    stp q6, q7, [sp, #256]\n" \
    "    stp q8, q9, [sp, #288]\n" \
    "    stp q10, q11, [sp, #320]\n" \
    "    stp q12, q13, [sp, #352]\n" \
    "    stp q14, q15, [sp, #384]\n" \
    "    stp q16, q17, [sp, #416]\n" \
    "    stp q18, q19, [sp, #448]\n" \
    "    stp q20, q21, [sp, #480]\n" \
    "    stp q22, q23, [sp, #512]\n" \
    "    stp q24, q25, [sp, #544]\n" \
    "    stp q26, q27, [sp, #576]\n" \
    "    stp q28, q29, [sp, #608]\n" \
    "    stp q30, q31, [sp, #640]\n" \
    "    bl " CALLEE "\n" \
    "    ldp q0, q1, [sp, #160]\n" \
    "    ldp q2, q3, [sp, #192]\n" \
    "    ldp q4, q5, [sp, #224]\n" \
    "    ldp q6, q7, [sp, #256]\n" \
    "    ldp q8, q9, [sp, #288]\n" \
    "    ldp q10, q11, [sp, #320]\n" \
    "    ldp q12, q13, [sp, #352]\n" \
    "    ldp q14, q15, [sp, #384]\n" \
    "    ldp q16, q17, [sp, #416]\n" \
    "    ldp q18, q19, [sp, #448]\n" \
    "    ldp q20, q21, [sp, #480]\n" \
    "    ldp q22, q23, [sp, #512]\n" \
    "    ldp q24, q25, [sp, #544]\n" \
    "    ldp q26, q27, [sp, #576]\n" \
    "    ldp q28, q29, [sp, #608]\n" \
    "    ldp q30, q31, [sp, #640]\n" \
    "    ldr x16, [sp, #144]\n" \
    "    msr fpcr, x16\n" \
    "    ldp x16, x17, [sp, #128]\n" \
    "    msr nzcv, x16\n" \
    "    msr fpsr, x17\n" \
    "    ldp x1, x2, [sp, #0]\n" \
    "    ldp x3, x4, [sp, #16]\n" \
    "    ldp x5, x6, [sp, #32]\n" \
    "    ldp x7, x8, [sp, #48]\n" \
    "    ldp x9, x10, [sp, #64]\n" \
    "    ldp x11, x12, [sp, #80]\n" \
    "    ldp x13, x14, [sp, #96]\n" \
    "    ldp x15, x18, [sp, #112]\n" \
    "    mov sp, x29\n" \
    "    ldp x29, x30, [sp], #16\n" \
    "    ret\n" \
    "    .size " NAME ", .-" NAME "\n")

/* Mach-O: descriptor->thunk(descriptor) → this thread's address of the variable. */
SAVE_ALL_AND_CALL("plugin_macho_tlv_get", "macho_tlv_address");
/* ELF: the same, for a TLS descriptor (elf_tls.c) → this thread's address. */
SAVE_ALL_AND_CALL("plugin_elf_tls_get", "elf_tlsdesc_address");

/*
 * TLSDESC resolvers (R_AARCH64_TLSDESC): called with x0 = the descriptor, they return in x0 the
 * variable's offset from the thread pointer (tpidr_el0) and change no other register. Static: the
 * offset was computed at load (a module in glibc's static TLS). Dynamic: our module, whose block
 * is made on the thread's first access (plugin_elf_tls_get keeps all but x0, x16, x17).
 */
__asm__(
    "    .text\n"
    "    .globl plugin_tlsdesc_static\n"
    "    .hidden plugin_tlsdesc_static\n"
    "    .type plugin_tlsdesc_static, %function\n"
    "plugin_tlsdesc_static:\n"
    "    ldr x0, [x0, #8]\n"
    "    ret\n"
    "    .size plugin_tlsdesc_static, .-plugin_tlsdesc_static\n"
    "    .globl plugin_tlsdesc_dynamic\n"
    "    .hidden plugin_tlsdesc_dynamic\n"
    "    .type plugin_tlsdesc_dynamic, %function\n"
    "plugin_tlsdesc_dynamic:\n"
    "    stp x16, x17, [sp, #-32]!\n"
    "    str x30, [sp, #16]\n"
    "    bl plugin_elf_tls_get\n"
    "    mrs x16, tpidr_el0\n"
    "    sub x0, x0, x16\n"
    "    ldr x30, [sp, #16]\n"
    "    ldp x16, x17, [sp], #32\n"
    "    ret\n"
    "    .size plugin_tlsdesc_dynamic, .-plugin_tlsdesc_dynamic\n");

uintptr_t arch_thread_pointer(void)
{
    uintptr_t tp;
    __asm__("mrs %0, tpidr_el0" : "=r"(tp));
    return tp;
}
#endif
