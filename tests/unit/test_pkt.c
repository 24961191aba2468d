/* Unit tests of or_pkt_classify: every malformed case gets its own exact
 * drop reason; frames are copied into buffers of exactly their length so
 * that ASan (SAN=1) catches any read past len. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_pkt_util.h"

/* Classifies a copy of f[0..len-1] held in a buffer of exactly len bytes. */
static enum or_pkt_class
classify_exact(const uint8_t *f, uint16_t len, struct or_pkt_info *info)
{
	struct or_port_addr pa = t_pa();
	uint8_t *b = malloc(len ? len : 1);
	enum or_pkt_class c;

	CU_ASSERT_FATAL(b != NULL);
	memcpy(b, f, len);
	memset(info, 0xee, sizeof(*info));
	c = or_pkt_classify(b, len, &pa, info);
	free(b);
	return c;
}

/* The drop reason of f, or OR_DROP_NONE when it classifies as a MSG. */
static int
reason_of(const uint8_t *f, uint16_t len)
{
	struct or_pkt_info info;
	enum or_pkt_class c = classify_exact(f, len, &info);

	if (c == OR_PKT_MSG)
		return OR_DROP_NONE;
	if (c != OR_PKT_DROP)
		return -1;
	return info.reason;
}

static int
reason_spec(const struct t_spec *s)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];

	return reason_of(f, t_build(f, s));
}

static void
test_names(void)
{
	int r, q;

	CU_ASSERT_STRING_EQUAL(or_drop_reason_name(OR_DROP_NONE), "none");
	CU_ASSERT_STRING_EQUAL(or_drop_reason_name(OR_DROP_TRUNCATED),
			       "truncated");
	CU_ASSERT_STRING_EQUAL(or_drop_reason_name(OR_DROP_SENDER_NOT_OPTED_IN),
			       "sender_not_opted_in");
	CU_ASSERT_STRING_EQUAL(or_drop_reason_name(OR_DROP_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(or_drop_reason_name((enum or_drop_reason)-1),
			       "unknown");
	for (r = 0; r < OR_DROP_MAX; r++) {
		const char *n = or_drop_reason_name(r);

		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT(strlen(n) > 0);
		CU_ASSERT(strcmp(n, "unknown") != 0);
		for (q = 0; q < r; q++)
			CU_ASSERT(strcmp(n, or_drop_reason_name(q)) != 0);
	}
}

static void
check_valid(int vlan, uint16_t plen, uint16_t pad)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(vlan, plen);
	struct or_port_addr pa = t_pa();
	struct or_pkt_info info;
	uint16_t len, l3 = t_l3(&s);

	s.pad = pad;
	len = t_build(f, &s);
	CU_ASSERT_EQUAL_FATAL(or_pkt_classify(f, len, &pa, &info), OR_PKT_MSG);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_NONE);
	CU_ASSERT_EQUAL(info.l3_off, l3);
	CU_ASSERT_EQUAL(info.ip_end, len - pad);
	CU_ASSERT_EQUAL(info.key_epoch, 3);
	CU_ASSERT_PTR_EQUAL(info.sender, f + l3 + 28 + 16);
	CU_ASSERT_PTR_EQUAL(info.recipient, f + l3 + 28 + 32);
	CU_ASSERT_EQUAL(info.sender->b[0], 0x10);
	CU_ASSERT_EQUAL(info.recipient->b[15], 0x2f);
}

static void
test_valid(void)
{
	check_valid(0, 0, 0);
	check_valid(1, 0, 0);
	check_valid(0, 100, 0);
	check_valid(1, 1, 0);
	check_valid(0, 1400, 0);
	/* Ethernet padding beyond the IP total length is allowed. */
	check_valid(0, 0, 6);
	check_valid(1, 3, 40);
}

static void
test_truncated_every_length(void)
{
	for (int vlan = 0; vlan < 2; vlan++) {
		_Alignas(8) uint8_t f[T_FRAME_MAX];
		struct t_spec s = t_spec_msg(vlan, 37);
		uint16_t len = t_build(f, &s), l;

		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_NONE);
		for (l = 0; l < len; l++)
			if (reason_of(f, l) != OR_DROP_TRUNCATED) {
				CU_FAIL("prefix not TRUNCATED");
				break;
			}
	}
}

static void
test_l2(void)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s;
	uint16_t len;

	s = t_spec_msg(0, 8);
	s.ethertype = RTE_ETHER_TYPE_IPV6;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_IPV4);
	s.vlan = 1;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_IPV4);
	s.ethertype = 0x88cc; /* LLDP */
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_IPV4);

	/* Two tags: 802.1Q in 802.1Q, and an 802.1ad outer tag. */
	s = t_spec_msg(1, 8);
	s.ethertype = RTE_ETHER_TYPE_VLAN;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_VLAN_STACKED);
	s.ethertype = RTE_ETHER_TYPE_QINQ;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_VLAN_STACKED);
	s = t_spec_msg(1, 8);
	len = t_build(f, &s);
	t_put16(f + 12, RTE_ETHER_TYPE_QINQ);
	CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_VLAN_STACKED);

	/* Unicast to another MAC, broadcast and multicast destinations. */
	s = t_spec_msg(0, 8);
	s.dmac.addr_bytes[5] ^= 1;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_FOR_US_MAC);
	memset(s.dmac.addr_bytes, 0xff, 6);
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_FOR_US_MAC);
	s.vlan = 1;
	s.dmac.addr_bytes[0] = 0x01;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_FOR_US_MAC);

	/* A group source MAC (we would answer a group). */
	s = t_spec_msg(0, 8);
	s.smac.addr_bytes[0] |= 1;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BAD_SRC_ADDR);
}

/* Builds s, applies set(ip) at l3 and fixes the IP checksum. */
static int
reason_ip_mut(int vlan, void (*set)(uint8_t *ip))
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(vlan, 8);
	uint16_t len = t_build(f, &s);

	set(f + t_l3(&s));
	t_fix_ip_csum(f, t_l3(&s));
	return reason_of(f, len);
}

static void set_v6(uint8_t *ip) { ip[0] = 0x65; }
static void set_ihl4(uint8_t *ip) { ip[0] = 0x44; }
static void set_ihl0(uint8_t *ip) { ip[0] = 0x40; }
static void set_tot19(uint8_t *ip) { t_put16(ip + 2, 19); }
static void set_tot0(uint8_t *ip) { t_put16(ip + 2, 0); }
static void set_tot_big(uint8_t *ip) { t_put16(ip + 2, t_get16(ip + 2) + 1); }
static void set_tot_small(uint8_t *ip) { t_put16(ip + 2, t_get16(ip + 2) - 1); }
static void set_mf(uint8_t *ip) { t_put16(ip + 6, 0x2000); }
static void set_off(uint8_t *ip) { t_put16(ip + 6, 0x0001); }
static void set_off_df(uint8_t *ip) { t_put16(ip + 6, 0x5fff); }
static void set_df(uint8_t *ip) { t_put16(ip + 6, 0x4000); }
static void set_nofrag(uint8_t *ip) { t_put16(ip + 6, 0); }
static void set_ttl0(uint8_t *ip) { ip[8] = 0; }
static void set_ttl1(uint8_t *ip) { ip[8] = 1; }
static void set_ttl2(uint8_t *ip) { ip[8] = 2; }
static void set_tcp(uint8_t *ip) { ip[9] = 6; }
static void set_icmp(uint8_t *ip) { ip[9] = 1; }
static void set_dst(uint8_t *ip) { ip[19] ^= 1; }
static void set_src0(uint8_t *ip) { t_put32(ip + 12, 0); }
static void set_src127(uint8_t *ip) { t_put32(ip + 12, 0x7f000001); }
static void set_src_mc(uint8_t *ip) { t_put32(ip + 12, 0xe0000001); }
static void set_src_bc(uint8_t *ip) { t_put32(ip + 12, 0xffffffff); }
static void set_src_own(uint8_t *ip) { t_put32(ip + 12, T_APP_IP); }
static void set_src_ok(uint8_t *ip) { t_put32(ip + 12, 0xdfffffff); }

static void
test_ipv4(void)
{
	for (int v = 0; v < 2; v++) {
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_v6), OR_DROP_BAD_IP_HDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_ihl4), OR_DROP_BAD_IP_HDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_ihl0), OR_DROP_BAD_IP_HDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_tot19), OR_DROP_BAD_IP_LEN);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_tot0), OR_DROP_BAD_IP_LEN);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_tot_big), OR_DROP_TRUNCATED);
		/* IP shorter than the frame: padding, so UDP length is off. */
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_tot_small),
				OR_DROP_BAD_UDP_LEN);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_mf), OR_DROP_FRAGMENT);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_off), OR_DROP_FRAGMENT);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_off_df), OR_DROP_FRAGMENT);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_df), OR_DROP_NONE);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_nofrag), OR_DROP_NONE);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_ttl0), OR_DROP_TTL_EXPIRED);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_ttl1), OR_DROP_TTL_EXPIRED);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_ttl2), OR_DROP_NONE);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_tcp), OR_DROP_NOT_UDP);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_icmp), OR_DROP_NOT_UDP);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_dst), OR_DROP_NOT_FOR_US_IP);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_src0), OR_DROP_BAD_SRC_ADDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_src127),
				OR_DROP_BAD_SRC_ADDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_src_mc),
				OR_DROP_BAD_SRC_ADDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_src_bc),
				OR_DROP_BAD_SRC_ADDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_src_own),
				OR_DROP_BAD_SRC_ADDR);
		CU_ASSERT_EQUAL(reason_ip_mut(v, set_src_ok), OR_DROP_NONE);
	}
}

static void
test_ip_options_and_csum(void)
{
	for (int v = 0; v < 2; v++) {
		_Alignas(8) uint8_t f[T_FRAME_MAX], g[T_FRAME_MAX];
		struct t_spec s = t_spec_msg(v, 8);
		uint16_t len = t_build(f, &s), l3 = t_l3(&s);

		/* IHL 6: a 4-byte NOP option inserted, lengths kept right. */
		memcpy(g, f, l3 + 20);
		memset(g + l3 + 20, 1, 4);
		memcpy(g + l3 + 24, f + l3 + 20, len - l3 - 20);
		g[l3] = 0x46;
		t_put16(g + l3 + 2, t_get16(f + l3 + 2) + 4);
		t_fix_ip_csum(g, l3);
		CU_ASSERT_EQUAL(reason_of(g, len + 4), OR_DROP_IP_OPTIONS);
		g[l3] = 0x4f;
		t_fix_ip_csum(g, l3);
		CU_ASSERT_EQUAL(reason_of(g, len + 4), OR_DROP_IP_OPTIONS);

		/* Any single-bit error in the header fails the checksum. */
		for (int bit = 0; bit < 160; bit++) {
			memcpy(g, f, len);
			g[l3 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
			if (bit / 8 == 0 && bit % 8 >= 4)
				continue; /* version: BAD_IP_HDR first */
			if (bit / 8 == 0) {
				/* IHL: BAD_IP_HDR or IP_OPTIONS */
				CU_ASSERT_NOT_EQUAL(reason_of(g, len),
						    OR_DROP_NONE);
			} else if (reason_of(g, len) != OR_DROP_BAD_IP_CSUM) {
				CU_FAIL("bit error not BAD_IP_CSUM");
			}
		}
		/* A zero checksum field is not "no checksum" in IPv4. */
		memcpy(g, f, len);
		t_put16(g + l3 + 10, 0);
		CU_ASSERT_EQUAL(reason_of(g, len), OR_DROP_BAD_IP_CSUM);
	}
}

/* Builds s with the UDP length changed by delta (IP length kept
 * consistent with the frame). */
static int
reason_udp_len(int vlan, int delta)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(vlan, 8);
	uint16_t len = t_build(f, &s), l3 = t_l3(&s);

	/* UDP checksum left stale: classify does not check it. */
	t_put16(f + l3 + 24, (uint16_t)(t_get16(f + l3 + 24) + delta));
	return reason_of(f, len);
}

static void
test_udp(void)
{
	for (int v = 0; v < 2; v++) {
		_Alignas(8) uint8_t f[T_FRAME_MAX];
		struct t_spec s = t_spec_msg(v, 8);
		uint16_t len, l3 = t_l3(&s);

		s.dport = T_APP_PORT + 1;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_FOR_US_PORT);
		s.dport = 53;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NOT_FOR_US_PORT);
		s = t_spec_msg(v, 8);
		s.sport = 0;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BAD_SRC_ADDR);
		s.sport = T_APP_PORT; /* same port as ours is fine */
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NONE);

		CU_ASSERT_EQUAL(reason_udp_len(v, 1), OR_DROP_BAD_UDP_LEN);
		CU_ASSERT_EQUAL(reason_udp_len(v, -1), OR_DROP_BAD_UDP_LEN);
		CU_ASSERT_EQUAL(reason_udp_len(v, -100), OR_DROP_BAD_UDP_LEN);
		CU_ASSERT_EQUAL(reason_udp_len(v, 0), OR_DROP_NONE);

		/* UDP datagram too short for our header, lengths consistent:
		 * IP total 20+8+67, UDP length 75, frame ends there. */
		s = t_spec_msg(v, 0);
		len = t_build(f, &s);
		t_put16(f + l3 + 2, 20 + 8 + OR_HDR_LEN - 1);
		t_fix_ip_csum(f, l3);
		t_put16(f + l3 + 24, 8 + OR_HDR_LEN - 1);
		CU_ASSERT_EQUAL(reason_of(f, len - 1), OR_DROP_TRUNCATED);
		/* ... and an empty UDP datagram, padded frame. */
		t_put16(f + l3 + 2, 28);
		t_fix_ip_csum(f, l3);
		t_put16(f + l3 + 24, 8);
		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_TRUNCATED);
		/* ... and an IP datagram too short for UDP. */
		t_put16(f + l3 + 2, 27);
		t_fix_ip_csum(f, l3);
		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_TRUNCATED);
	}
}

static void
test_or_header(void)
{
	for (int v = 0; v < 2; v++) {
		_Alignas(8) uint8_t f[T_FRAME_MAX];
		struct t_spec s = t_spec_msg(v, 20);
		uint16_t len, l3 = t_l3(&s);
		int t;

		s.magic = 0x524f; /* byte-swapped */
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BAD_MAGIC);
		s.magic = 0;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BAD_MAGIC);
		s = t_spec_msg(v, 20);
		s.version = 0;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BAD_VERSION);
		s.version = 2;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BAD_VERSION);
		s = t_spec_msg(v, 20);
		for (t = 0; t < 256; t++) {
			int want = t == OR_TYPE_MSG ? OR_DROP_NONE :
				   t == OR_TYPE_BOUNCE ? OR_DROP_BOUNCE_TO_US :
				   OR_DROP_BAD_TYPE;

			s.type = (uint8_t)t;
			if (reason_spec(&s) != want)
				CU_FAIL("wrong reason for a type");
		}
		/* A BOUNCE as we would send it, reflected to us. */
		s = t_spec_msg(v, 0);
		s.type = OR_TYPE_BOUNCE;
		s.reason = OR_REASON_RECIPIENT_UNAVAILABLE;
		CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_BOUNCE_TO_US);

		/* payload_len off by one either way, and absurd. */
		s = t_spec_msg(v, 20);
		len = t_build(f, &s);
		t_put16(f + l3 + 28 + 64, 21);
		t_fix_udp_csum(f, l3);
		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_BAD_PAYLOAD_LEN);
		t_put16(f + l3 + 28 + 64, 19);
		t_fix_udp_csum(f, l3);
		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_BAD_PAYLOAD_LEN);
		t_put16(f + l3 + 28 + 64, 0xffff);
		t_fix_udp_csum(f, l3);
		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_BAD_PAYLOAD_LEN);

		/* Flags, reason, reserved bytes and the tag are not checked. */
		s = t_spec_msg(v, 20);
		s.flags = 0xff;
		s.reason = 7;
		len = t_build(f, &s);
		f[l3 + 28 + 7] = 0x55;
		f[l3 + 28 + 66] = 0x66;
		t_fix_udp_csum(f, l3);
		CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_NONE);
	}
}

/* The UDP checksum is not verified on classify (see docs/protocol.md). */
static void
test_udp_csum_not_checked(void)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(0, 20);
	uint16_t len = t_build(f, &s);

	f[14 + 26] ^= 0x40;
	CU_ASSERT_EQUAL(reason_of(f, len), OR_DROP_NONE);
	s.udp_ck = 0;
	CU_ASSERT_EQUAL(reason_spec(&s), OR_DROP_NONE);
}

/* or_ip_hdr_csum_ok (a divisibility test on the plain word sum) against
 * the test's own fold: random headers, each with its checksum right, then
 * with random damage; and the edge sums 0 (not valid) and all ones (a
 * ones' complement sum of 0xffff: valid). */
static void
test_ip_csum_equivalence(void)
{
	uint64_t r = 0x9e3779b97f4a7c15ull;
	uint8_t ip[20];
	unsigned valid = 0;

	for (int i = 0; i < 200000; i++) {
		for (int j = 0; j < 20; j++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			ip[j] = (uint8_t)r;
		}
		if (i % 2 == 0) {
			t_put16(ip + 10, 0);
			t_put16(ip + 10, (uint16_t)~t_sum(ip, 20, 0));
		} else if (i % 4 == 1) {
			ip[r % 20] ^= (uint8_t)(1u << ((r >> 8) % 8));
		}
		bool want = t_sum(ip, 20, 0) == 0xffff;

		valid += want;
		if (or_ip_hdr_csum_ok(ip) != want) {
			CU_FAIL("or_ip_hdr_csum_ok differs from the fold");
			break;
		}
	}
	CU_ASSERT(valid >= 100000); /* every fixed header, at least */
	memset(ip, 0, sizeof(ip));
	CU_ASSERT_FALSE(or_ip_hdr_csum_ok(ip));
	memset(ip, 0xff, sizeof(ip));
	CU_ASSERT_TRUE(or_ip_hdr_csum_ok(ip));
}

/* The port's mtu (docs/protocol.md sections 1 and 4, check 13): an IPv4
 * total length of exactly mtu is taken, one more is too_big; the check
 * comes after the length checks and before the fragment check. */
static enum or_pkt_class
classify_mtu(const struct t_spec *s, uint16_t mtu, struct or_pkt_info *info)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct or_port_addr pa = t_pa();
	uint16_t len = t_build(f, s);

	pa.mtu = mtu;
	return or_pkt_classify(f, len, &pa, info);
}

static void
test_mtu(void)
{
	/* payload_len 1404: IPv4 total length 20 + 8 + 68 + 1404 = 1500. */
	struct t_spec s = t_spec_msg(0, 1404);
	struct or_pkt_info info;

	CU_ASSERT_EQUAL(t_pa().mtu, 1500);
	CU_ASSERT_EQUAL(classify_mtu(&s, 1500, &info), OR_PKT_MSG);
	CU_ASSERT_EQUAL(info.ip_end, 14 + 1500);
	s.payload_len = 1405;
	CU_ASSERT_EQUAL(classify_mtu(&s, 1500, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_TOO_BIG);
	CU_ASSERT_STRING_EQUAL(or_drop_reason_name(OR_DROP_TOO_BIG), "too_big");
	/* Tagged: the limit is on the IPv4 datagram, not the frame. */
	s.vlan = 1;
	CU_ASSERT_EQUAL(classify_mtu(&s, 1500, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_TOO_BIG);
	s.payload_len = 1404;
	CU_ASSERT_EQUAL(classify_mtu(&s, 1500, &info), OR_PKT_MSG);
	/* A jumbo port (mtu 9000) takes what a standard one refuses, up to
	 * what one receive buffer holds. */
	s.vlan = 0;
	s.payload_len = 1405;
	CU_ASSERT_EQUAL(classify_mtu(&s, 9000, &info), OR_PKT_MSG);
	s.payload_len = T_FRAME_MAX - 14 - 96;
	CU_ASSERT_EQUAL(classify_mtu(&s, 9000, &info), OR_PKT_MSG);
	CU_ASSERT_EQUAL(classify_mtu(&s, 1500, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_TOO_BIG);
	/* A small mtu: 576 taken, 577 not. */
	s.payload_len = 576 - 96;
	CU_ASSERT_EQUAL(classify_mtu(&s, 576, &info), OR_PKT_MSG);
	s.payload_len++;
	CU_ASSERT_EQUAL(classify_mtu(&s, 576, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_TOO_BIG);
	/* Order: after truncated, before fragment. */
	s.frag = 0x2000; /* MF */
	CU_ASSERT_EQUAL(classify_mtu(&s, 576, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_TOO_BIG);
	CU_ASSERT_EQUAL(classify_mtu(&s, 1500, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_FRAGMENT);
}

static CU_TestInfo pkt_tests[] = {
	{"drop reason names", test_names},
	{"valid MSG, VLAN and not, padding", test_valid},
	{"every truncation is TRUNCATED", test_truncated_every_length},
	{"Ethernet, VLAN, MAC checks", test_l2},
	{"IPv4 checks", test_ipv4},
	{"IPv4 options and checksum", test_ip_options_and_csum},
	{"IPv4 checksum test equals the fold", test_ip_csum_equivalence},
	{"UDP checks", test_udp},
	{"protocol header checks", test_or_header},
	{"UDP checksum not checked on classify", test_udp_csum_not_checked},
	{"port mtu: 1500 taken, 1501 too_big, jumbo port", test_mtu},
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("pkt", NULL, NULL, pkt_tests)
