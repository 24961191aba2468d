/* Runs every registered CUnit suite (or the ones named as arguments) and
 * prints CUnit's run summary followed by "unit: N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "or_test.h"

#define MAX_SUITES 64

static CU_SuiteInfo suites[MAX_SUITES + 1];
static unsigned n_suites;

void
or_test_add_suite(const char *name, CU_InitializeFunc init,
		  CU_CleanupFunc clean, CU_TestInfo *tests)
{
	if (n_suites == MAX_SUITES) {
		fprintf(stderr, "too many CUnit suites (max %d)\n", MAX_SUITES);
		exit(2);
	}
	suites[n_suites++] = (CU_SuiteInfo){
		.pName = (char *)name,
		.pInitFunc = init,
		.pCleanupFunc = clean,
		.pTests = tests,
	};
}

static int
wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	CU_SuiteInfo run[MAX_SUITES + 1];
	unsigned n = 0;

	for (unsigned i = 0; i < n_suites; i++)
		if (wanted(suites[i].pName, argc, argv))
			run[n++] = suites[i];
	run[n] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	if (n == 0) {
		fprintf(stderr, "no such suite\n");
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    CU_register_suites(run) != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();

	unsigned ran = CU_get_number_of_tests_run();
	unsigned tfail = CU_get_number_of_tests_failed();
	unsigned sfail = CU_get_number_of_suites_failed();
	printf("\nunit: %u passed, %u failed\n", ran - tfail, tfail + sfail);
	CU_cleanup_registry();
	return (tfail + sfail) ? 1 : 0;
}
