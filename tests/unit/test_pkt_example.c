/* The worked examples of docs/protocol.md, byte for byte: the MSG frame is
 * what the independent test builder makes, and the library turns it into
 * exactly the DELIVER and BOUNCE frames the document shows. If this test
 * fails, the document is wrong (or the code is). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_pkt_util.h"

/* docs/protocol.md, section "Worked examples". */
static const char ex_msg[] =
	"02 00 00 00 01 01 02 00 00 00 00 0a 08 00 45 28"
	"00 70 12 34 40 00 40 11 3b e2 c0 00 02 0a c6 33"
	"64 01 9c 40 1b 80 00 5c 39 ab 4f 52 01 01 00 03"
	"00 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f a0 a1 a2 a3 a4 a5"
	"a6 a7 a8 a9 aa ab ac ad ae af 00 10 00 00 01 08"
	"0f 16 1d 24 2b 32 39 40 47 4e 55 5c 63 6a"
;
static const char ex_deliver[] =
	"02 00 00 00 02 05 02 00 00 00 02 01 08 00 45 28"
	"00 70 12 34 40 00 3f 11 b1 19 cb 00 71 01 cb 00"
	"71 05 1b 80 1b 81 00 5c 2e a2 4f 52 01 01 00 03"
	"00 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f a0 a1 a2 a3 a4 a5"
	"a6 a7 a8 a9 aa ab ac ad ae af 00 10 00 00 01 08"
	"0f 16 1d 24 2b 32 39 40 47 4e 55 5c 63 6a"
;
static const char ex_bounce[] =
	"02 00 00 00 00 0a 02 00 00 00 01 01 08 00 45 28"
	"00 60 12 34 40 00 40 11 3b f2 c6 33 64 01 c0 00"
	"02 0a 1b 80 9c 40 00 4c ca a3 4f 52 01 02 00 03"
	"01 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f a0 a1 a2 a3 a4 a5"
	"a6 a7 a8 a9 aa ab ac ad ae af 00 00 00 00"
;

static void
test_doc_examples(void)
{
	_Alignas(8) uint8_t msg[T_FRAME_MAX], dlv[T_FRAME_MAX],
		bnc[T_FRAME_MAX], f[T_FRAME_MAX], g[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(0, 16);
	struct or_port_addr pa = t_pa();
	struct or_nexthop nh[T_NODE + 1];
	struct or_pkt_info info;
	enum or_drop_reason reason;
	uint32_t in = or_rec_make(OR_STATE_IN, T_NODE, 3, 0);
	uint16_t mlen, dlen, blen, len, port = 0;

	memset(nh, 0, sizeof(nh));
	nh[T_NODE] = t_nh();
	mlen = t_unhex(ex_msg, msg);
	dlen = t_unhex(ex_deliver, dlv);
	blen = t_unhex(ex_bounce, bnc);
	CU_ASSERT_EQUAL_FATAL(mlen, 14 + 20 + 8 + OR_HDR_LEN + 16);
	CU_ASSERT_EQUAL_FATAL(dlen, mlen);
	CU_ASSERT_EQUAL_FATAL(blen, 14 + 20 + 8 + OR_HDR_LEN);

	CU_ASSERT_EQUAL_FATAL(t_build(f, &s), mlen);
	CU_ASSERT(memcmp(f, msg, mlen) == 0);

	memcpy(g, msg, mlen);
	len = mlen;
	CU_ASSERT_EQUAL_FATAL(or_pkt_classify(g, len, &pa, &info), OR_PKT_MSG);
	CU_ASSERT_EQUAL(or_pkt_decide(g, &len, &info, in, in, nh, T_NODE + 1,
				      &pa, NULL, 0, &port, &reason),
			OR_VERDICT_DELIVER);
	CU_ASSERT_EQUAL(len, dlen);
	CU_ASSERT_EQUAL(port, T_NH_PORT_ID);
	CU_ASSERT(memcmp(g, dlv, dlen) == 0);

	for (int k = 0; k < 2; k++) {
		uint32_t rrec = k ? or_rec_make(OR_STATE_OUT, T_NODE, 3, 0) : 0;

		memcpy(g, msg, mlen);
		len = mlen;
		CU_ASSERT_EQUAL_FATAL(or_pkt_classify(g, len, &pa, &info),
				      OR_PKT_MSG);
		CU_ASSERT_EQUAL(or_pkt_decide(g, &len, &info, in, rrec, nh,
					      T_NODE + 1, &pa, NULL, 0, &port, &reason),
				OR_VERDICT_BOUNCE);
		CU_ASSERT_EQUAL(len, blen);
		CU_ASSERT(memcmp(g, bnc, blen) == 0);
	}
}

static CU_TestInfo example_tests[] = {
	{"docs/protocol.md worked examples", test_doc_examples},
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("pkt_example", NULL, NULL, example_tests)
