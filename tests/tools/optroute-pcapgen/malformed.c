/* SPDX-License-Identifier: BSD-3-Clause
 *
 * `optroute-pcapgen -m`: one frame per drop reason a frame can carry.
 */
#include <string.h>

#include "tests/lib/or_rand.h"
#include "tests/tools/or_client_msg.h"
#include "pcapgen.h"

/*
 * One frame per drop reason that a frame can carry (and one ARP request,
 * which is answered). Each starts from a MSG whose sender and recipient
 * are opted in (it would be delivered), then breaks one thing.
 */
int
gen_emit_malformed(struct gen_out *o, const struct gen_tokens *tk, struct gen_addrs a,
	       uint64_t *rng)
{
	static uint8_t f[MAX_FRAME];
	struct gen_entry s, r, x;
	struct gen_layout L;
	uint8_t *ip, *udp, *h;
	uint64_t id = 0x6d616c0000000000ull;

	if (gen_pick_in(tk, rng, 1, &s) != 0 || gen_pick_in(tk, rng, 1, &r) != 0)
		return -1;
#define BASE() (L = gen_build_msg(f, &a, &s.t, &r.t, id++, 0, 7), \
		ip = f + L.l3, udp = f + L.l4, h = f + L.hdr)
#define FIX() (gen_ip_csum(ip), gen_udp_csum(ip, &a))
/* A header field changed: signed anew (version 2), so that the named
 * fault is the frame's only one. */
#define HFIX() (gen_sign_hdr(h, &a), FIX())
	const int v2 = a.version == OR_PROTO_V2;

	BASE(); gen_emit(o, f, 10, "drop truncated");
	BASE(); f[6] = 0x01; gen_emit(o, f, L.len, "drop bad_src_addr");
	BASE(); gen_put16(f + 12, 0x88a8); gen_emit(o, f, L.len, "drop vlan_stacked");
	BASE(); gen_put16(f + 12, 0x86dd); gen_emit(o, f, L.len, "drop not_ipv4");
	BASE(); f[5] ^= 0x40; gen_emit(o, f, L.len, "drop not_for_us_mac");
	BASE(); gen_emit(o, f, L.l3 + 10, "drop truncated");
	BASE(); ip[0] = 0x65; FIX(); gen_emit(o, f, L.len, "drop bad_ip_hdr");
	BASE(); ip[0] = 0x46; FIX(); gen_emit(o, f, L.len, "drop ip_options");
	BASE(); ip[10] ^= 0x11; gen_emit(o, f, L.len, "drop bad_ip_csum");
	BASE(); gen_put16(ip + 2, 12); FIX(); gen_emit(o, f, L.len, "drop bad_ip_len");
	BASE(); gen_emit(o, f, L.len - 1, "drop truncated");
	BASE(); gen_put16(ip + 6, 0x2000); FIX(); gen_emit(o, f, L.len, "drop fragment");
	BASE(); ip[19] ^= 0x01; FIX(); gen_emit(o, f, L.len, "drop not_for_us_ip");
	BASE(); ip[12] = 127; FIX(); gen_emit(o, f, L.len, "drop bad_src_addr");
	BASE(); ip[9] = 6; FIX(); gen_emit(o, f, L.len, "drop not_udp");
	BASE(); ip[8] = 1; FIX(); gen_emit(o, f, L.len, "drop ttl_expired");
	BASE(); gen_put16(udp + 2, 9); FIX(); gen_emit(o, f, L.len, "drop not_for_us_port");
	BASE(); gen_put16(udp, 0); FIX(); gen_emit(o, f, L.len, "drop bad_src_addr");
	BASE(); gen_put16(udp + 4, 50); FIX(); gen_emit(o, f, L.len, "drop bad_udp_len");
	BASE(); h[0] = 0x4e; HFIX(); gen_emit(o, f, L.len, "drop bad_magic");
	/* Each version refuses the other (version 1 only with auth off). */
	BASE(); h[2] = v2 ? 1 : 2; HFIX(); gen_emit(o, f, L.len, "drop bad_version");
	BASE(); h[3] = OR_TYPE_BOUNCE; HFIX(); gen_emit(o, f, L.len, "drop bounce_to_us");
	BASE(); h[3] = 9; HFIX(); gen_emit(o, f, L.len, "drop bad_type");
	BASE(); gen_put16(h + (v2 ? OR_CLI_V2_PAYLOAD_LEN : 64), 3); HFIX();
	gen_emit(o, f, L.len, "drop bad_payload_len");

	/* A MSG shorter than its header: IP and UDP lengths consistent. */
	{
		struct gen_addrs b = a;

		b.payload = 0;
		L = gen_build_msg(f, &b, &s.t, &r.t, id++, 0, 7);
		ip = f + L.l3;
		gen_put16(ip + 2, 20 + 8 + 40);
		gen_put16(ip + 20 + 4, 8 + 40);
		gen_ip_csum(ip);
		gen_udp_csum(ip, &b);
		gen_emit(o, f, L.l3 + 68, "drop truncated");
	}

	/* Version 2's own checks (docs/protocol.md section 4), in their
	 * order: an epoch that is not live (the current one's opposite), a
	 * tag one bit off, a send_time an hour off, and a MSG accepted once
	 * then its very bytes again. */
	if (v2) {
		uint64_t off = a.send_time > 3600000 ? a.send_time - 3600000 :
						       a.send_time + 3600000;

		BASE(); h[5] ^= 0x80; HFIX(); gen_emit(o, f, L.len, "drop unknown_epoch");
		BASE(); h[OR_HDR2_TAG_OFF] ^= 0x01; FIX(); gen_emit(o, f, L.len, "drop bad_tag");
		BASE(); or_cli_put64(h + OR_CLI_V2_SEND_TIME, off); HFIX();
		gen_emit(o, f, L.len, "drop stale");
		BASE(); gen_emit(o, f, L.len, "deliver"); gen_emit(o, f, L.len, "drop replay");
	}

	/* Decisions. */
	gen_pick_not_in(tk, rng, &x);
	L = gen_build_msg(f, &a, &x.t, &r.t, id++, 0, 7);
	gen_emit(o, f, L.len, "drop sender_not_opted_in");
	gen_pick_not_in(tk, rng, &x);
	L = gen_build_msg(f, &a, &s.t, &x.t, id++, 0, 7);
	f[L.l4 + 6] ^= 0x01; /* wrong, non-zero UDP checksum */
	if (f[L.l4 + 6] == 0 && f[L.l4 + 7] == 0)
		f[L.l4 + 7] = 1;
	gen_emit(o, f, L.len, "drop bad_udp_csum");
	if (tk->routed != NULL && gen_pick_in(tk, rng, 0, &x) == 0) {
		L = gen_build_msg(f, &a, &s.t, &x.t, id++, 0, 7);
		gen_emit(o, f, L.len, "drop no_route");
	}
	/* Larger than one mbuf (2048 bytes of data room). */
	{
		struct gen_addrs b = a;

		b.payload = 2400;
		L = gen_build_msg(f, &b, &s.t, &r.t, id++, 0, 7);
		gen_emit(o, f, L.len, "drop multi_seg");
	}

	/* ARP: one request answered, one for another address, one bad. */
	for (int k = 0; k < 3; k++) {
		size_t l2 = a.vlan >= 0 ? 18 : 14;
		uint8_t *arp = f + l2;

		memset(f, 0, 60);
		memset(f, 0xff, 6);
		memcpy(f + 6, a.src_mac, 6);
		if (a.vlan >= 0) {
			gen_put16(f + 12, 0x8100);
			gen_put16(f + 14, (uint16_t)a.vlan);
		}
		gen_put16(f + l2 - 2, 0x0806);
		gen_put16(arp, k == 2 ? 6 : 1);
		gen_put16(arp + 2, 0x0800);
		arp[4] = 6;
		arp[5] = 4;
		gen_put16(arp + 6, 1);
		memcpy(arp + 8, a.src_mac, 6);
		memcpy(arp + 14, &a.src_ip, 4);
		memcpy(arp + 24, &a.dst_ip, 4);
		if (k == 1)
			arp[27] ^= 0x01;
		gen_emit(o, f, 60, k == 0 ? "arp" : k == 1 ? "drop arp_not_for_us" :
							  "drop bad_arp");
	}
#undef BASE
#undef FIX
#undef HFIX
	return 0;
}
