/*
 * x86_64/tlv.c — the getter that Mach-O thread-local variable descriptors call (x86-64).
 *
 * Code compiled for macOS reads a __thread variable with
 *     movq _var@TLVP(%rip), %rdi ; call *(%rdi)      → %rax = the variable's address
 * and assumes the call changes nothing but %rax: every other register, the vector registers
 * and the flags stay live across it. So this getter saves all of them (the vector state with
 * XSAVE, sized by CPUID for the features the OS enabled), calls the C side
 * (macho_tlv_address in loader/macho_tlv.c) and restores them.
 */
#include "arch.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* Bytes XSAVE needs for the state components the OS enabled (CPUID.(0DH,0):EBX). 0: no XSAVE,
 * the getter uses FXSAVE (512 bytes). Set once by arch_tlv_init, before any getter runs. */
__attribute__((visibility("hidden"))) unsigned long plugin_tlv_xsave_size;

void arch_tlv_init(void)
{
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27)) && __get_cpuid_count(0xd, 0, &a, &b, &c, &d))
        plugin_tlv_xsave_size = b;
}

__asm__(
    "    .text\n"
    "    .globl plugin_macho_tlv_get\n"
    "    .hidden plugin_macho_tlv_get\n"
    "    .type plugin_macho_tlv_get, @function\n"
    "plugin_macho_tlv_get:\n"
    "    pushq %rbp\n"
    "    movq %rsp, %rbp\n"
    "    pushfq\n"                              /* -8(%rbp) */
    "    pushq %rcx\n"
    "    pushq %rdx\n"
    "    pushq %rsi\n"
    "    pushq %rdi\n"                          /* -40(%rbp): the descriptor */
    "    pushq %r8\n"
    "    pushq %r9\n"
    "    pushq %r10\n"
    "    pushq %r11\n"                          /* -72(%rbp) */
    "    movq plugin_tlv_xsave_size(%rip), %rcx\n"
    "    testq %rcx, %rcx\n"
    "    jz 1f\n"
    "    subq %rcx, %rsp\n"
    "    andq $-64, %rsp\n"
    "    xorl %eax, %eax\n"                     /* XSAVE header (bytes 512..575) must start zeroed */
    "    movq %rax, 512(%rsp)\n"
    "    movq %rax, 520(%rsp)\n"
    "    movq %rax, 528(%rsp)\n"
    "    movq %rax, 536(%rsp)\n"
    "    movq %rax, 544(%rsp)\n"
    "    movq %rax, 552(%rsp)\n"
    "    movq %rax, 560(%rsp)\n"
    "    movq %rax, 568(%rsp)\n"
    "    movl $-1, %eax\n"
    "    movl $-1, %edx\n"
    "    xsave (%rsp)\n"
    "    movq -40(%rbp), %rdi\n"
    "    call macho_tlv_address\n"
    "    movq %rax, %rsi\n"
    "    movl $-1, %eax\n"
    "    movl $-1, %edx\n"
    "    xrstor (%rsp)\n"
    "    movq %rsi, %rax\n"
    "    jmp 2f\n"
    "1:  subq $512, %rsp\n"                     /* no XSAVE: FXSAVE covers x87, MMX, XMM, MXCSR */
    "    andq $-16, %rsp\n"
    "    fxsave64 (%rsp)\n"
    "    call macho_tlv_address\n"
    "    fxrstor64 (%rsp)\n"
    "2:  leaq -72(%rbp), %rsp\n"
    "    popq %r11\n"
    "    popq %r10\n"
    "    popq %r9\n"
    "    popq %r8\n"
    "    popq %rdi\n"
    "    popq %rsi\n"
    "    popq %rdx\n"
    "    popq %rcx\n"
    "    popfq\n"
    "    popq %rbp\n"
    "    ret\n"
    "    .size plugin_macho_tlv_get, .-plugin_macho_tlv_get\n");
#endif
