/* suites.h: every unit-test suite; main.c runs them all in one SRunner. */
#ifndef TQ_TEST_SUITES_H
#define TQ_TEST_SUITES_H

#include <check.h>

Suite	*uuid_suite(void);
Suite	*url_suite(void);
Suite	*task_suite(void);
Suite	*config_suite(void);
Suite	*util_suite(void);
Suite	*proto_suite(void);
Suite	*policy_suite(void);
Suite	*cron_suite(void);
Suite	*history_suite(void);
Suite	*serve_suite(void);

#endif
