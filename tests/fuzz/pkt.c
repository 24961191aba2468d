/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "pkt": the packet path of one frame, as the worker runs it
 * (dataplane/worker.c): or_pkt_classify, for version 2 the burst tag
 * verification (auth/auth_verify.h), the sender's and recipient's records
 * from a real consent table (ct_upsert, ct_lookup_bulk), or_pkt_decide with
 * its deliver and bounce rewrites, and or_arp_reply. Both protocol versions.
 *
 * Checked against docs/protocol.md, with code written here (byte offsets,
 * its own checksums, the reference or_auth_* of common/auth):
 *  - section 4: the class and drop reason of every frame, from a model of
 *    the validation table (its order included, the port mtu too);
 *  - section 5: the burst verdict equals the scalar one and the
 *    reference's (unknown epoch, bad tag, good);
 *  - section 6: the action from the two records (and the budget flag);
 *  - section 7: a delivered frame's every header field, checksums valid
 *    (the UDP one exactly when it was valid on input), header and payload
 *    unchanged, length trimmed;
 *  - section 8: a bounce's every field, IPv4 and UDP checksums valid, the
 *    version-2 tag verifying with or_auth_check, and byte-identical
 *    output for "never registered" and "opted out" (the same frame decided
 *    again after the table changed); an OVER_BUDGET bounce identical
 *    whatever the recipient's state;
 *  - section 9: the ARP reply field by field; any other frame is refused
 *    unchanged;
 *  - a dropped frame is unchanged.
 *
 * Input: flags, sender record, recipient record, mtu, then the frame (up to
 * 2048 bytes). Flags let the harness fix what a mutator rarely gets right
 * (checksums, lengths, addresses, the tag), so the deep path is reached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "optroute/auth.h"
#include "optroute/ctable.h"
#include "dataplane/auth/auth_verify.h"
#include "dataplane/pkt/pkt_classify.h"
#include "dataplane/pkt/pkt_decide.h"
#include "fz_util.h"

#define F_V2 0x01
#define F_FIX_IP_CSUM 0x02
#define F_SIGN 0x04
#define F_FIX_UDP_CSUM 0x08
#define F_OVER_BUDGET 0x10
#define F_FIX_LEN 0x20
#define F_RETIRED 0x40 /* decide with a ring that lost the sender's epoch */
#define F_FIX_ADDR 0x80

#define FRAME_MAX 2048
#define NH_COUNT 3

static struct ct *fz_table;
static int fz_debug; /* OR_FUZZ_DEBUG=1: one line per input on stderr */
/* Live epochs 3 and 7; the "retired" ring has 7 only. */
static struct or_auth_keys fz_ring, fz_ring_retired;
static struct or_auth_key fz_kauth3, fz_kauth7;
static struct or_nexthop fz_nh[NH_COUNT];
static const uint8_t fz_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t fz_ip[4] = { 198, 51, 100, 1 };
static const uint16_t fz_udp = 7040;

/* ------------------------------------------------------ byte helpers -- */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ones' complement sum of p[0..n) as big-endian words. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += get16(p + i);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

static int
ip_csum_ok(const uint8_t *ip)
{
	return sum16(ip, 20, 0) == 0xffff;
}

/* The UDP datagram at ip (IHL 5) of udp_len bytes: its checksum as it
 * should be (0 never: sent as 0xffff). */
static uint16_t
udp_csum(const uint8_t *ip, uint16_t udp_len)
{
	uint8_t ph[12];
	uint32_t acc;
	uint16_t ck;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	put16(ph + 10, udp_len);
	acc = sum16(ph, 12, 0);
	acc = sum16(ip + 20, 6, acc); /* ports, length */
	acc = sum16(ip + 28, udp_len - 8u, acc);
	ck = (uint16_t)~acc;
	return ck == 0 ? 0xffff : ck;
}

/* A non-zero UDP checksum is right: the whole sum is 0xffff. */
static int
udp_csum_ok(const uint8_t *ip, uint16_t udp_len)
{
	uint8_t ph[12];
	uint32_t acc;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	put16(ph + 10, udp_len);
	acc = sum16(ph, 12, 0);
	acc = sum16(ip + 20, udp_len, acc);
	return acc == 0xffff;
}

static int
unicast(const uint8_t *mac)
{
	return (mac[0] & 1) == 0;
}

/* ----------------------------------------------------- the model ------ */

struct model {
	int cls;       /* enum or_pkt_class */
	int reason;    /* enum or_drop_reason when dropped */
	uint16_t l3;
	uint16_t tot;
};

static struct model
drop(int reason)
{
	return (struct model){ .cls = OR_PKT_DROP, .reason = reason };
}

/* docs/protocol.md sections 4 and 9, in their order. */
static struct model
model_classify(const uint8_t *f, uint16_t len, uint8_t version, uint16_t mtu)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t l3 = 14, et, tot;
	const uint8_t *ip, *udp, *h;

	if (len < 14)
		return drop(OR_DROP_TRUNCATED);
	if (!unicast(f + 6))
		return drop(OR_DROP_BAD_SRC_ADDR);
	et = get16(f + 12);
	if (et == 0x8100) {
		if (len < 18)
			return drop(OR_DROP_TRUNCATED);
		et = get16(f + 16);
		if (et == 0x8100 || et == 0x88a8)
			return drop(OR_DROP_VLAN_STACKED);
		l3 = 18;
	} else if (et == 0x88a8) {
		return drop(OR_DROP_VLAN_STACKED);
	}
	if (et == 0x0806) {
		const uint8_t *a = f + l3;

		if (len < l3 + 28)
			return drop(OR_DROP_TRUNCATED);
		if (get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 ||
		    a[5] != 4)
			return drop(OR_DROP_BAD_ARP);
		if (get16(a + 6) != 1 || memcmp(a + 24, fz_ip, 4) != 0 ||
		    (memcmp(f, bcast, 6) != 0 && memcmp(f, fz_mac, 6) != 0))
			return drop(OR_DROP_ARP_NOT_FOR_US);
		if (!unicast(a + 8))
			return drop(OR_DROP_BAD_ARP);
		return (struct model){ .cls = OR_PKT_ARP_REQUEST, .l3 = l3 };
	}
	if (et != 0x0800)
		return drop(OR_DROP_NOT_IPV4);
	if (memcmp(f, fz_mac, 6) != 0)
		return drop(OR_DROP_NOT_FOR_US_MAC);
	if (len < l3 + 20)
		return drop(OR_DROP_TRUNCATED);
	ip = f + l3;
	if ((ip[0] >> 4) != 4 || (ip[0] & 15) < 5)
		return drop(OR_DROP_BAD_IP_HDR);
	if ((ip[0] & 15) != 5)
		return drop(OR_DROP_IP_OPTIONS);
	if (!ip_csum_ok(ip))
		return drop(OR_DROP_BAD_IP_CSUM);
	tot = get16(ip + 2);
	if (tot < 20)
		return drop(OR_DROP_BAD_IP_LEN);
	if (tot > len - l3)
		return drop(OR_DROP_TRUNCATED);
	if (tot > mtu)
		return drop(OR_DROP_TOO_BIG);
	if (get16(ip + 6) & 0x3fff)
		return drop(OR_DROP_FRAGMENT);
	if (memcmp(ip + 16, fz_ip, 4) != 0)
		return drop(OR_DROP_NOT_FOR_US_IP);
	if (ip[12] == 0 || ip[12] == 127 || ip[12] >= 224 ||
	    memcmp(ip + 12, fz_ip, 4) == 0)
		return drop(OR_DROP_BAD_SRC_ADDR);
	if (ip[9] != 17)
		return drop(OR_DROP_NOT_UDP);
	if (ip[8] <= 1)
		return drop(OR_DROP_TTL_EXPIRED);
	if (tot < 28)
		return drop(OR_DROP_TRUNCATED);
	udp = ip + 20;
	if (get16(udp + 2) != fz_udp)
		return drop(OR_DROP_NOT_FOR_US_PORT);
	if (get16(udp) == 0)
		return drop(OR_DROP_BAD_SRC_ADDR);
	if (get16(udp + 4) != tot - 20)
		return drop(OR_DROP_BAD_UDP_LEN);
	if (tot < 96)
		return drop(OR_DROP_TRUNCATED);
	h = udp + 8;
	if (get16(h) != 0x4f52)
		return drop(OR_DROP_BAD_MAGIC);
	if (h[2] != version)
		return drop(OR_DROP_BAD_VERSION);
	if (h[3] == 2)
		return drop(OR_DROP_BOUNCE_TO_US);
	if (h[3] != 1)
		return drop(OR_DROP_BAD_TYPE);
	if (get16(h + (version == 2 ? 56 : 64)) != tot - 96)
		return drop(OR_DROP_BAD_PAYLOAD_LEN);
	return (struct model){ .cls = OR_PKT_MSG, .l3 = l3, .tot = tot };
}

/* K_auth of an epoch, live or not (a dead epoch still gets a key, so a
 * signed frame of it reaches the unknown_epoch check). */
static struct or_auth_key
kauth_of(uint8_t epoch)
{
	struct or_auth_key k;

	if (epoch == 3)
		return fz_kauth3;
	if (epoch == 7)
		return fz_kauth7;
	for (int i = 0; i < 16; i++)
		k.b[i] = (uint8_t)(epoch * 31 + i);
	return k;
}

static struct or_auth_key
ksender_of(const uint8_t *hdr)
{
	struct or_auth_key ka = kauth_of(hdr[5]), ks;

	FZ_CHECK(or_auth_sender_key(&ka, (const struct or_token *)(hdr + 16),
				    &ks) == 0,
		 "reference K_sender");
	return ks;
}

/* -------------------------------------------------------- fix-ups ----- */

static void
fixup(uint8_t *f, uint16_t len, uint8_t flags, uint8_t version)
{
	uint16_t l3 = 14, tot;
	uint8_t *ip, *h;

	if (len < 14)
		return;
	if (get16(f + 12) == 0x8100 && len >= 18)
		l3 = 18;
	if (flags & F_FIX_ADDR) {
		memcpy(f, fz_mac, 6);
		if (len >= l3 + 20)
			memcpy(f + l3 + 16, fz_ip, 4);
		if (len >= l3 + 28)
			put16(f + l3 + 22, fz_udp);
	}
	if (len < l3 + 20)
		return;
	ip = f + l3;
	tot = (uint16_t)(len - l3);
	if (flags & F_FIX_LEN) {
		put16(ip + 2, tot);
		if (tot >= 28)
			put16(ip + 24, (uint16_t)(tot - 20));
		if (tot >= 96)
			put16(ip + 28 + (version == 2 ? 56 : 64),
			      (uint16_t)(tot - 96));
	}
	tot = get16(ip + 2);
	h = ip + 28;
	if ((flags & F_SIGN) && tot >= 96 && tot <= len - l3) {
		struct or_auth_key ks = ksender_of(h);

		or_auth_sign(&ks, (struct or_hdr2 *)h);
	}
	if ((flags & F_FIX_UDP_CSUM) && tot >= 28 && tot <= len - l3 &&
	    get16(ip + 24) >= 8 && get16(ip + 24) <= tot - 20) {
		put16(ip + 26, 0);
		put16(ip + 26, udp_csum(ip, get16(ip + 24)));
	}
	if (flags & F_FIX_IP_CSUM) {
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
	}
}

/* ------------------------------------------------------------ checks -- */

static void
check_arp(const uint8_t *f0, uint16_t len, const struct model *m,
	  const struct or_port_addr *pa)
{
	uint8_t *f = malloc(len ? len : 1);
	int rc;

	memcpy(f, f0, len);
	rc = or_arp_reply(f, len, pa);
	if (m->cls != OR_PKT_ARP_REQUEST) {
		FZ_CHECK(rc == -EINVAL, "ARP reply to a non-request: %d", rc);
		FZ_CHECK(memcmp(f, f0, len) == 0, "refused frame changed");
		free(f);
		return;
	}
	const uint8_t *a0 = f0 + m->l3, *a = f + m->l3;

	FZ_CHECK(rc == 0, "ARP request refused: %d", rc);
	FZ_CHECK(memcmp(f, a0 + 8, 6) == 0, "reply dst != sender hw addr");
	FZ_CHECK(memcmp(f + 6, fz_mac, 6) == 0, "reply src != port MAC");
	FZ_CHECK(memcmp(f + 12, f0 + 12, m->l3 - 12) == 0, "tag/type changed");
	FZ_CHECK(memcmp(a, a0, 6) == 0, "ARP hw/proto/lengths changed");
	FZ_CHECK(get16(a + 6) == 2, "opcode not reply");
	FZ_CHECK(memcmp(a + 8, fz_mac, 6) == 0, "sha != port MAC");
	FZ_CHECK(memcmp(a + 14, fz_ip, 4) == 0, "spa != port IP");
	FZ_CHECK(memcmp(a + 18, a0 + 8, 6) == 0, "tha != request sha");
	FZ_CHECK(memcmp(a + 24, a0 + 14, 4) == 0, "tpa != request spa");
	FZ_CHECK(memcmp(f + m->l3 + 28, f0 + m->l3 + 28,
			len - m->l3 - 28u) == 0,
		 "padding changed");
	free(f);
}

static void
check_deliver(const uint8_t *f0, const uint8_t *f, uint16_t len,
	      const struct model *m, const struct or_nexthop *nh)
{
	const uint8_t *ip0 = f0 + m->l3, *ip = f + m->l3;
	uint16_t ulen = get16(ip0 + 24);

	FZ_CHECK(len == m->l3 + m->tot, "delivered length %u, want %u", len,
		 m->l3 + m->tot);
	FZ_CHECK(memcmp(f, nh->dst_mac.addr_bytes, 6) == 0, "dst MAC");
	FZ_CHECK(memcmp(f + 6, nh->src_mac.addr_bytes, 6) == 0, "src MAC");
	FZ_CHECK(memcmp(f + 12, f0 + 12, m->l3 - 12) == 0, "tag/type");
	FZ_CHECK(memcmp(ip, ip0, 8) == 0, "IPv4 ver..frag changed");
	FZ_CHECK(ip[8] == ip0[8] - 1, "TTL not decremented");
	FZ_CHECK(ip[9] == 17, "protocol");
	FZ_CHECK(ip_csum_ok(ip), "delivered IPv4 checksum");
	FZ_CHECK(memcmp(ip + 12, &nh->src_ip, 4) == 0, "src IP");
	FZ_CHECK(memcmp(ip + 16, &nh->dst_ip, 4) == 0, "dst IP");
	FZ_CHECK(memcmp(ip + 20, &nh->src_udp, 2) == 0, "src port");
	FZ_CHECK(memcmp(ip + 22, &nh->dst_udp, 2) == 0, "dst port");
	FZ_CHECK(get16(ip + 24) == ulen, "UDP length changed");
	if (get16(ip0 + 26) == 0)
		FZ_CHECK(get16(ip + 26) == 0, "no checksum became one");
	else
		FZ_CHECK(get16(ip + 26) != 0 &&
				 udp_csum_ok(ip, ulen) == udp_csum_ok(ip0, ulen),
			 "UDP checksum validity changed (%d -> %d)",
			 udp_csum_ok(ip0, ulen), udp_csum_ok(ip, ulen));
	FZ_CHECK(memcmp(ip + 28, ip0 + 28, m->tot - 28u) == 0,
		 "header or payload changed");
}

static void
check_bounce(const uint8_t *f0, const uint8_t *f, uint16_t len,
	     const struct model *m, uint8_t version, uint8_t reason)
{
	const uint8_t *ip0 = f0 + m->l3, *ip = f + m->l3;
	const uint8_t *h0 = ip0 + 28, *h = ip + 28;
	unsigned pl = version == 2 ? 56 : 64;

	FZ_CHECK(len == m->l3 + 96, "bounce length %u", len);
	FZ_CHECK(memcmp(f, f0 + 6, 6) == 0, "bounce dst MAC");
	FZ_CHECK(memcmp(f + 6, fz_mac, 6) == 0, "bounce src MAC");
	FZ_CHECK(memcmp(f + 12, f0 + 12, m->l3 - 12) == 0, "tag/type");
	FZ_CHECK(ip[0] == ip0[0] && ip[1] == ip0[1], "ver/IHL/TOS");
	FZ_CHECK(get16(ip + 2) == 96, "total length");
	FZ_CHECK(memcmp(ip + 4, ip0 + 4, 4) == 0, "id/flags changed");
	FZ_CHECK(ip[8] == 64 && ip[9] == 17, "TTL/protocol");
	FZ_CHECK(ip_csum_ok(ip), "bounce IPv4 checksum");
	FZ_CHECK(memcmp(ip + 12, fz_ip, 4) == 0, "bounce src IP");
	FZ_CHECK(memcmp(ip + 16, ip0 + 12, 4) == 0, "bounce dst IP");
	FZ_CHECK(get16(ip + 20) == fz_udp, "bounce src port");
	FZ_CHECK(memcmp(ip + 22, ip0 + 20, 2) == 0, "bounce dst port");
	FZ_CHECK(get16(ip + 24) == 76, "bounce UDP length");
	FZ_CHECK(get16(ip + 26) != 0 && udp_csum_ok(ip, 76),
		 "bounce UDP checksum");
	FZ_CHECK(h[3] == 2 && h[6] == reason, "type %u reason %u", h[3], h[6]);
	FZ_CHECK(get16(h + pl) == 0, "payload_len");
	for (unsigned i = 0; i < 68; i++) {
		if (i == 3 || i == 6 || i == pl || i == pl + 1 ||
		    (version == 2 && i >= 60))
			continue;
		FZ_CHECK(h[i] == h0[i], "header byte %u changed", i);
	}
	if (version == 2) {
		struct or_auth_key ks = ksender_of(h);

		FZ_CHECK(or_auth_check(&ks, (const struct or_hdr2 *)h) == 1,
			 "bounce tag does not verify");
	}
}

/* --------------------------------------------------------- records ---- */

static uint32_t
rec_of(uint8_t sel)
{
	static const uint16_t nodes[4] = { 0, 1, 2, 7 };
	unsigned st = sel & 3;

	if (st == 0)
		return 0;
	return or_rec_make(st == 2 ? OR_STATE_OUT : OR_STATE_IN,
			   nodes[(sel >> 2) & 3], (uint8_t)(sel >> 4),
			   st == 3 ? OR_CFLAG_PINNED : 0);
}

static void
table_set(const struct or_token *t, uint32_t rec)
{
	int rc;

	if (rec == 0) {
		ct_delete(fz_table, t);
		return;
	}
	while ((rc = ct_upsert(fz_table, t, rec)) == -EAGAIN)
		ct_sync(fz_table);
	FZ_CHECK(rc == 0, "ct_upsert %d", rc);
}

/* The records of sender and recipient, looked up as the worker does. */
static void
lookup(const struct or_pkt_info *info, uint32_t recs[2])
{
	const struct or_token *keys[2] = { info->sender, info->recipient };

	ct_lookup_bulk(fz_table, keys, 2, recs);
}

struct decided {
	int verdict;
	uint16_t len, out;
	enum or_drop_reason reason;
	uint8_t *f;
};

static struct decided
decide(const uint8_t *f0, uint16_t len, const struct or_pkt_info *info0,
       const struct or_port_addr *pa, const struct or_keyring *kr,
       int over, const uint32_t recs[2])
{
	struct decided d = { .len = len, .reason = OR_DROP_NONE };
	struct or_pkt_info info = *info0;

	d.f = malloc(len);
	memcpy(d.f, f0, len);
	/* The info points into the frame: rebase it on the copy. */
	info.sender = (const struct or_token *)(d.f +
		((const uint8_t *)info0->sender - f0));
	info.recipient = (const struct or_token *)(d.f +
		((const uint8_t *)info0->recipient - f0));
	d.verdict = or_pkt_decide(d.f, &d.len, &info, recs[0], recs[1], fz_nh,
			      NH_COUNT, pa, kr, over, &d.out, &d.reason);
	return d;
}

static void
check_same(const struct decided *a, const struct decided *b, const char *what)
{
	FZ_CHECK(a->verdict == b->verdict && a->len == b->len &&
			 memcmp(a->f, b->f, a->len) == 0,
		 "%s: outputs differ (verdict %d/%d, len %u/%u)", what,
		 a->verdict, b->verdict, a->len, b->len);
}

/* ---------------------------------------------------------- the MSG --- */

static void
run_msg(const uint8_t *f0, uint16_t len, const struct or_pkt_info *info,
	const struct model *m, const struct or_port_addr *pa, uint8_t flags,
	uint32_t srec, uint32_t rrec)
{
	const uint8_t *h = f0 + m->l3 + 28;
	const struct or_keyring *kr = NULL;
	int over = !!(flags & F_OVER_BUDGET), v2 = pa->version == 2;
	uint32_t recs[2], want_r;
	struct decided d, d2;
	int same_tok = memcmp(h + 16, h + 32, 16) == 0;

	if (v2) {
		const uint8_t *hs[3] = { h, h, h };
		uint8_t vb[3], vs[3], want;
		int slot = h[5] == 3 || h[5] == 7;

		kr = or_keyring_get(&fz_ring);
		or_auth_verify_burst(kr, hs, 3, vb);
		or_auth_verify_scalar(kr, hs, 3, vs);
		if (!slot) {
			want = OR_AUTH_UNKNOWN_EPOCH;
		} else {
			struct or_auth_key ks = ksender_of(h);

			want = or_auth_check(&ks, (const struct or_hdr2 *)h) ?
				       OR_AUTH_OK : OR_AUTH_BAD_TAG;
		}
		for (int i = 0; i < 3; i++)
			FZ_CHECK(vb[i] == want && vs[i] == want,
				 "verdict burst %u scalar %u reference %u",
				 vb[i], vs[i], want);
		if (want != OR_AUTH_OK)
			return; /* dropped before any lookup */
		if (flags & F_RETIRED)
			kr = or_keyring_get(&fz_ring_retired);
	}

	/* The table: sender, then recipient (the same token: the later). */
	table_set(info->sender, srec);
	table_set(info->recipient, rrec);
	if (same_tok && rrec == 0)
		table_set(info->recipient, srec);
	want_r = same_tok && rrec == 0 ? srec : rrec;
	lookup(info, recs);
	FZ_CHECK(recs[0] == (same_tok ? want_r : srec) && recs[1] == want_r,
		 "lookup %08x %08x, stored %08x %08x", recs[0], recs[1], srec,
		 want_r);

	d = decide(f0, len, info, pa, kr, over, recs);

	/* Section 6. */
	int s_in = or_rec_state(recs[0]) == OR_STATE_IN;
	int r_in = or_rec_state(recs[1]) == OR_STATE_IN;
	uint16_t node = or_rec_node(recs[1]);
	uint16_t ulen = get16(f0 + m->l3 + 24);
	uint16_t uck = get16(f0 + m->l3 + 26);
	int want_verdict, want_reason = OR_DROP_NONE;

	if (!s_in) {
		want_verdict = OR_VERDICT_DROP;
		want_reason = OR_DROP_SENDER_NOT_OPTED_IN;
	} else if (!over && r_in) {
		if (node < NH_COUNT && fz_nh[node].valid) {
			want_verdict = OR_VERDICT_DELIVER;
		} else {
			want_verdict = OR_VERDICT_DROP;
			want_reason = OR_DROP_NO_ROUTE;
		}
	} else if (uck != 0 && !udp_csum_ok(f0 + m->l3, ulen)) {
		want_verdict = OR_VERDICT_DROP;
		want_reason = OR_DROP_BAD_UDP_CSUM;
	} else if (v2 && or_keyring_slot(kr, h[5]) < 0) {
		want_verdict = OR_VERDICT_DROP;
		want_reason = OR_DROP_UNKNOWN_EPOCH;
	} else {
		want_verdict = over ? OR_VERDICT_OVER_BUDGET :
				      OR_VERDICT_BOUNCE;
	}
	if (fz_debug)
		fprintf(stderr, "pkt: v%u verdict %d reason %s\n", pa->version,
			d.verdict, or_drop_reason_name(d.reason));
	FZ_CHECK(d.verdict == want_verdict,
		 "verdict %d, want %d (records %08x %08x)", d.verdict,
		 want_verdict, recs[0], recs[1]);
	switch (d.verdict) {
	case OR_VERDICT_DROP:
		FZ_CHECK((int)d.reason == want_reason, "drop %s, want %s",
			 or_drop_reason_name(d.reason),
			 or_drop_reason_name(want_reason));
		/* *len is only an output of DELIVER and the bounces. */
		FZ_CHECK(memcmp(d.f, f0, len) == 0, "dropped frame changed");
		break;
	case OR_VERDICT_DELIVER:
		FZ_CHECK(d.out == fz_nh[node].port_id, "egress port");
		check_deliver(f0, d.f, d.len, m, &fz_nh[node]);
		break;
	default:
		check_bounce(f0, d.f, d.len, m, pa->version,
			     over ? OR_REASON_OVER_BUDGET :
				    OR_REASON_RECIPIENT_UNAVAILABLE);
		break;
	}

	/* Section 8: the same bytes whatever the recipient's history (the
	 * table changes the recipient only: not when it is the sender). */
	if (!same_tok && d.verdict == OR_VERDICT_BOUNCE) {
		table_set(info->recipient,
			  recs[1] == 0 ? or_rec_make(OR_STATE_OUT, 1, 9, 0) : 0);
		lookup(info, recs);
		FZ_CHECK(or_rec_state(recs[1]) != OR_STATE_IN, "recipient IN");
		d2 = decide(f0, len, info, pa, kr, over, recs);
		check_same(&d, &d2, "never registered vs opted out");
		free(d2.f);
	}
	if (!same_tok && d.verdict == OR_VERDICT_OVER_BUDGET) {
		table_set(info->recipient, or_rec_make(OR_STATE_IN, 0, 1, 0));
		lookup(info, recs);
		d2 = decide(f0, len, info, pa, kr, over, recs);
		check_same(&d, &d2, "OVER_BUDGET, recipient in vs not");
		free(d2.f);
	}
	free(d.f);
	table_set(info->sender, 0);
	table_set(info->recipient, 0);
	ct_sync(fz_table);
}

/* ------------------------------------------------------------ setup --- */

static void
ring_install(struct or_auth_keys *a, unsigned n, const uint8_t *epochs)
{
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION,
				       .count = n };
	char err[OR_CHAN_ERR_TEXT_LEN];

	for (unsigned i = 0; i < n; i++) {
		struct or_auth_key k = kauth_of(epochs[i]);

		m.keys[i].epoch = epochs[i];
		memcpy(m.keys[i].key, k.b, 16);
	}
	FZ_CHECK(or_keyring_install(a, &m, err, sizeof(err)) == 0, "%s", err);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ct_params p = { .entries = 64, .socket_id = -1 };

	(void)argc;
	(void)argv;
	FZ_CHECK(ct_create(&p, &fz_table) == 0, "ct_create");
	fz_debug = getenv("OR_FUZZ_DEBUG") != NULL;
	/* docs/protocol.md section 11: K_auth[3] = 00 01 .. 0f. */
	for (int i = 0; i < 16; i++) {
		fz_kauth3.b[i] = (uint8_t)i;
		fz_kauth7.b[i] = (uint8_t)(0xf0 ^ (i * 13));
	}
	ring_install(&fz_ring, 2, (const uint8_t[]){ 3, 7 });
	ring_install(&fz_ring_retired, 1, (const uint8_t[]){ 7 });
	for (unsigned i = 0; i < NH_COUNT; i++) {
		struct or_nexthop *nh = &fz_nh[i];

		nh->valid = i != 2; /* node 2: configured nowhere */
		nh->port_id = (uint16_t)(1 + i);
		nh->src_mac = (struct rte_ether_addr){ { 2, 0, 0, 0, 2, 1 } };
		nh->dst_mac = (struct rte_ether_addr){
			{ 2, 0, 0, 0, 2, (uint8_t)(5 + i) } };
		nh->src_ip = rte_cpu_to_be_32(0xcb007101u);
		nh->dst_ip = rte_cpu_to_be_32(0xcb007105u + i);
		nh->src_udp = rte_cpu_to_be_16(7040);
		nh->dst_udp = rte_cpu_to_be_16((uint16_t)(7041 + i));
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t mtus[3] = { 1500, 9000, 576 };
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in), ssel = fz_u8(&in), rsel = fz_u8(&in);
	uint8_t msel = fz_u8(&in);
	struct or_port_addr pa = {
		.mac = { { 0x02, 0, 0, 0, 0x01, 0x01 } },
		.udp_port = rte_cpu_to_be_16(fz_udp),
		.version = flags & F_V2 ? OR_PROTO_V2 : OR_PROTO_V1,
		.mtu = (msel & 3) < 3 ? mtus[msel & 3] : 96 + (msel >> 2) * 37,
	};
	struct or_pkt_info info;
	struct model m;
	const uint8_t *p;
	uint8_t *f;
	size_t n;
	uint16_t len;
	int cls;

	memcpy(&pa.ip, fz_ip, 4);
	p = fz_rest(&in, &n);
	if (n > FRAME_MAX)
		n = FRAME_MAX;
	len = (uint16_t)n;
	/* Exactly len bytes, so a read past the frame is caught. */
	f = malloc(len ? len : 1);
	memcpy(f, p, len);
	fixup(f, len, flags, pa.version);

	m = model_classify(f, len, pa.version, pa.mtu);
	memset(&info, 0xee, sizeof(info));
	cls = or_pkt_classify(f, len, &pa, &info);
	if (fz_debug)
		fprintf(stderr, "pkt: class %d reason %s\n", cls,
			cls == OR_PKT_DROP ? or_drop_reason_name(info.reason) :
					     "none");
	FZ_CHECK(cls == m.cls, "class %d, want %d (reason %s, want %s)", cls,
		 m.cls, or_drop_reason_name(info.reason),
		 or_drop_reason_name(m.reason));
	if (cls == OR_PKT_DROP)
		FZ_CHECK(info.reason == m.reason, "drop %s, want %s",
			 or_drop_reason_name(info.reason),
			 or_drop_reason_name(m.reason));
	check_arp(f, len, &m, &pa);
	if (cls == OR_PKT_MSG) {
		FZ_CHECK(info.l3_off == m.l3 && info.ip_end == m.l3 + m.tot &&
				 (const uint8_t *)info.sender == f + m.l3 + 44 &&
				 (const uint8_t *)info.recipient ==
					 f + m.l3 + 60 &&
				 info.key_epoch == f[m.l3 + 33],
			 "MSG info");
		run_msg(f, len, &info, &m, &pa, flags, rec_of(ssel),
			rec_of(rsel));
	}
	free(f);
	return 0;
}
