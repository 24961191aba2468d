/* CUnit glue: each test file registers its own suite with OR_TEST_SUITE, so
 * adding a suite never touches a shared file. The runner (runner.c) runs
 * them all, or those named on its command line. */
#ifndef OR_TEST_H
#define OR_TEST_H

#include <CUnit/CUnit.h>

void or_test_add_suite(const char *name, CU_InitializeFunc init,
		       CU_CleanupFunc clean, CU_TestInfo *tests);

#define OR_TEST_SUITE(name, init, clean, tests)                              \
	static void __attribute__((constructor)) or_suite_ctor_##tests(void) \
	{                                                                    \
		or_test_add_suite(name, init, clean, tests);                 \
	}

#endif
