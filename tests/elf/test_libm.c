/*
 * test_libm.c — a plugin calling libm gets the right answers: libm's functions are IFUNCs whose
 * resolvers pick a variant for this CPU, and libm.so.6 is either the process's (reused) or loaded
 * by us with its GLIBC_PRIVATE references into libc and ld.so. The expected values come from the
 * test binary's own libm, through the same versions.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <math.h>

Test(libm, ifunc_math_functions_give_right_answers)
{
    plugin *p = open_fixture("libm/libm_user.so");
    double (*m_sin)(double) = (double (*)(double))must_lookup(p, "m_sin");
    double (*m_exp)(double) = (double (*)(double))must_lookup(p, "m_exp");
    double (*m_pow)(double, double) = (double (*)(double, double))must_lookup(p, "m_pow");
    double (*m_log)(double) = (double (*)(double))must_lookup(p, "m_log");
    double (*m_floor)(double) = (double (*)(double))must_lookup(p, "m_floor");
    volatile double x = 0.5, y = 3.25;                 /* volatile: computed here at run time */
    for (int i = 0; i < 100; i++, x += 0.37) {
        cr_assert_eq(m_sin(x), sin(x), "sin(%g)", x);
        cr_assert_eq(m_exp(x), exp(x), "exp(%g)", x);
        cr_assert_eq(m_pow(x, y), pow(x, y), "pow(%g, %g)", x, y);
        cr_assert_eq(m_log(x), log(x), "log(%g)", x);
        cr_assert_eq(m_floor(x), floor(x), "floor(%g)", x);
    }
    cr_assert_float_eq(m_sin(M_PI / 2), 1.0, 1e-15);
}
