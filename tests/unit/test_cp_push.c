/* Unit tests of optroute-control's channel thread (control/daemon/cp_push.c)
 * against a scripted fake dataplane (test_fake_dp.c). The daemon's sources
 * are not in a library, so the files under test are compiled in here
 * (cp_log.c for its logging; cp_now_us is cp_main.c's in the daemon). */
#include <errno.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "../../control/daemon/cp_log.c"
#include "../../control/daemon/cp_push.c"

#include "or_test.h"
#include "test_fake_dp.h"

uint64_t
cp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A peer that answers the HELLO with an ERROR of a code outside the errno
 * range: the thread must count no connection and keep retrying, not use
 * a client it never got. */
static void
test_bad_error_code(void)
{
	static const uint32_t codes[] = { 0xffffffffu, 0x80000000u, 0 };

	cp_log_set_level(CP_LOG_ERR); /* no "retrying" notices */
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct tf_dp d = { 0 };
		struct cp_push_conf conf = { .retry_ms = 10, .queue_max = 1024 };
		struct cp_push *p = NULL;
		struct cp_push_info info;

		tf_dp_send_error(&d, codes[i]);
		tf_dp_start(&d);
		conf.chan_path = d.path;
		CU_ASSERT_EQUAL_FATAL(cp_push_start(&conf, &p), 0);
		CU_ASSERT_EQUAL(tf_dp_wait_served(&d, 3), 0);
		cp_push_info(p, &info);
		CU_ASSERT_EQUAL(info.connected, 0);
		CU_ASSERT_EQUAL(info.connects, 0);
		CU_ASSERT_EQUAL(cp_push_request_stats(p, 1, 0), -ENOTCONN);
		cp_push_stop(p);
		tf_dp_stop(&d);
	}
	cp_log_set_level(CP_LOG_INFO);
}

static CU_TestInfo cp_push_tests[] = {
	{ "ERROR with a bad code instead of HELLO", test_bad_error_code },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("cp_push", NULL, NULL, cp_push_tests)
