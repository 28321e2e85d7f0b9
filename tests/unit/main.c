/* main.c: runs every unit-test suite; exit status is EXIT_FAILURE when any
 * test failed. Tests run in fork mode; CK_FORK=no in the environment turns
 * it off (for valgrind and gdb). An explicit srunner_set_fork_status()
 * makes Check ignore CK_FORK, hence the getenv. */
#include <stdlib.h>

#include <check.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(uuid_suite());
	srunner_add_suite(sr, url_suite());
	srunner_add_suite(sr, task_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, util_suite());
	srunner_add_suite(sr, proto_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, cron_suite());
	srunner_add_suite(sr, history_suite());
	srunner_add_suite(sr, serve_suite());
	if (getenv("CK_FORK") == NULL)
		srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
