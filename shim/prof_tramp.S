/* prof_tramp.S - the two x86_64 entry points of profile mode's timing
 * trampolines (prof_tramp.h says what they do and why).
 *
 * prof_tramp_common: reached from a per-function stub `push $index; jmp
 * *common`, so [rsp] = index and [rsp+8] = the caller's return address
 * (the return slot). Saves every register that can carry an argument
 * (rdi, rsi, rdx, rcx, r8, r9, xmm0-7; rax = the vector count of a
 * varargs call; r10 = the static chain), asks prof_tramp_enter (C) for the
 * real function and, when the call is timed, the return trampoline to put
 * in the return slot; restores, and jumps to the real function with the
 * stack exactly as the caller left it (stack arguments in place). r11 is
 * scratch at a call (the PLT and the lazy resolver clobber it too).
 *
 * prof_tramp_ret: where a timed call returns. Keeps the return registers
 * (rax, rdx, xmm0, xmm1; the x87 stack holding a long double is never
 * touched: the C hook uses no x87 code), asks prof_tramp_exit for the
 * original return address, writes it where the return address was, and
 * returns there.
 */
#if defined(__x86_64__) && defined(__ELF__)
	.text
	.globl	prof_tramp_common
	.hidden	prof_tramp_common
	.type	prof_tramp_common, @function
	.p2align 4
prof_tramp_common:
	.cfi_startproc
	.cfi_def_cfa_offset 16
	sub	$192, %rsp
	.cfi_adjust_cfa_offset 192
	mov	%rdi, 0(%rsp)
	mov	%rsi, 8(%rsp)
	mov	%rdx, 16(%rsp)
	mov	%rcx, 24(%rsp)
	mov	%r8, 32(%rsp)
	mov	%r9, 40(%rsp)
	mov	%rax, 48(%rsp)
	mov	%r10, 56(%rsp)
	movdqu	%xmm0, 64(%rsp)
	movdqu	%xmm1, 80(%rsp)
	movdqu	%xmm2, 96(%rsp)
	movdqu	%xmm3, 112(%rsp)
	movdqu	%xmm4, 128(%rsp)
	movdqu	%xmm5, 144(%rsp)
	movdqu	%xmm6, 160(%rsp)
	movdqu	%xmm7, 176(%rsp)
	mov	192(%rsp), %rdi		/* the function's index */
	lea	200(%rsp), %rsi		/* the return slot */
	call	prof_tramp_enter	/* rax = real, rdx = return trampoline or 0 */
	test	%rdx, %rdx
	jz	1f
	mov	%rdx, 200(%rsp)
1:	mov	%rax, 192(%rsp)
	mov	0(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	16(%rsp), %rdx
	mov	24(%rsp), %rcx
	mov	32(%rsp), %r8
	mov	40(%rsp), %r9
	mov	48(%rsp), %rax
	mov	56(%rsp), %r10
	movdqu	64(%rsp), %xmm0
	movdqu	80(%rsp), %xmm1
	movdqu	96(%rsp), %xmm2
	movdqu	112(%rsp), %xmm3
	movdqu	128(%rsp), %xmm4
	movdqu	144(%rsp), %xmm5
	movdqu	160(%rsp), %xmm6
	movdqu	176(%rsp), %xmm7
	add	$192, %rsp
	.cfi_adjust_cfa_offset -192
	pop	%r11
	.cfi_adjust_cfa_offset -8
	jmp	*%r11
	.cfi_endproc
	.size	prof_tramp_common, .-prof_tramp_common

	.globl	prof_tramp_ret
	.hidden	prof_tramp_ret
	.type	prof_tramp_ret, @function
	.p2align 4
prof_tramp_ret:
	sub	$8, %rsp		/* the return slot again: rsp = slot */
	push	%rax
	push	%rdx
	sub	$40, %rsp
	movdqu	%xmm0, 0(%rsp)
	movdqu	%xmm1, 16(%rsp)
	lea	56(%rsp), %rdi		/* the return slot */
	call	prof_tramp_exit		/* rax = the original return address */
	mov	%rax, 56(%rsp)
	movdqu	0(%rsp), %xmm0
	movdqu	16(%rsp), %xmm1
	add	$40, %rsp
	pop	%rdx
	pop	%rax
	ret
	.size	prof_tramp_ret, .-prof_tramp_ret
#endif
	.section .note.GNU-stack,"",@progbits
