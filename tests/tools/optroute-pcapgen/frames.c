/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A MSG frame built by hand, independently of dataplane/pkt/ (its
 * optroute header by the reference client's code, or_client_msg.h), and
 * the pcap records written of it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tests/tools/or_client_msg.h"
#include "pcapgen.h"

static uint32_t
csum_add(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t
csum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

void
gen_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
gen_ip_csum(uint8_t *ip)
{
	gen_put16(ip + 10, 0);
	gen_put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
}

void
gen_udp_csum(uint8_t *ip, const struct gen_addrs *a)
{
	uint8_t *udp = ip + 20;
	uint16_t ulen = (uint16_t)(udp[4] << 8 | udp[5]);
	uint32_t acc = 0;
	uint16_t ck;

	gen_put16(udp + 6, 0);
	if (!a->udp_csum)
		return;
	acc = csum_add(acc, ip + 12, 8); /* source and destination */
	acc += 17 + ulen;
	acc = csum_add(acc, udp, ulen);
	ck = csum_fold(acc);
	gen_put16(udp + 6, ck == 0 ? 0xffff : ck);
}

/* Version 2: signs the header at h (anew after a change) under the
 * sender's K_sender. No-op in version 1. */
void
gen_sign_hdr(uint8_t *h, const struct gen_addrs *a)
{
	struct or_auth_key ks;
	struct or_token snd;

	if (a->version != OR_PROTO_V2)
		return;
	memcpy(snd.b, h + 16, OR_TOKEN_LEN);
	if (or_auth_sender_key(&a->k_auth, &snd, &ks) != 0) {
		fprintf(stderr, "%s: AES failed\n", gen_prog);
		exit(1);
	}
	or_cli_sign2(h, &ks);
	sodium_memzero(&ks, sizeof(ks));
}

/* A well-formed MSG (in version 1 of epoch `epoch`; in version 2 of
 * a->epoch, signed); returns its layout. */
struct gen_layout
gen_build_msg(uint8_t *f, const struct gen_addrs *a, const struct or_token *snd,
	  const struct or_token *rcp, uint64_t msg_id, uint8_t epoch,
	  uint16_t ip_id)
{
	static uint8_t payload[MAX_FRAME];
	struct or_cli_msg m = {
		.type = OR_TYPE_MSG,
		.key_epoch = a->version == OR_PROTO_V2 ? a->epoch : epoch,
		.msg_id = msg_id,
		.sender = *snd,
		.recipient = *rcp,
		.send_time = a->send_time,
		.payload = payload,
		.payload_len = (uint16_t)a->payload,
	};
	struct gen_layout L;
	uint8_t *ip, *udp, *h;
	size_t l2 = a->vlan >= 0 ? 18 : 14;
	uint16_t tot = (uint16_t)(20 + 8 + OR_HDR_LEN + a->payload);

	memcpy(f, a->dst_mac, 6);
	memcpy(f + 6, a->src_mac, 6);
	if (a->vlan >= 0) {
		gen_put16(f + 12, 0x8100);
		gen_put16(f + 14, (uint16_t)a->vlan);
		gen_put16(f + 16, 0x0800);
	} else {
		gen_put16(f + 12, 0x0800);
	}
	ip = f + l2;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	gen_put16(ip + 2, tot);
	gen_put16(ip + 4, ip_id);
	gen_put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &a->src_ip, 4);
	memcpy(ip + 16, &a->dst_ip, 4);
	udp = ip + 20;
	gen_put16(udp, a->src_port);
	gen_put16(udp + 2, a->dst_port);
	gen_put16(udp + 4, (uint16_t)(tot - 20));
	h = udp + 8;
	/* Version 1 carries this tag field unchanged; version 2 signs. */
	for (int i = 0; i < 16; i++)
		m.auth_tag[i] = (uint8_t)(0xa0 + i);
	for (unsigned i = 0; i < a->payload; i++)
		payload[i] = (uint8_t)(msg_id * 7 + i);
	(void)or_cli_build(a->version, h, MAX_FRAME - (size_t)(h - f), &m);
	gen_sign_hdr(h, a);
	gen_ip_csum(ip);
	gen_udp_csum(ip, a);
	L.l3 = l2;
	L.l4 = l2 + 20;
	L.hdr = l2 + 28;
	L.len = l2 + tot;
	return L;
}


void
gen_emit(struct gen_out *o, const uint8_t *f, size_t len, const char *expect)
{
	struct pcap_pkthdr ph = { 0 };

	ph.ts.tv_sec = 1700000000 + o->count / 1000000;
	ph.ts.tv_usec = o->count % 1000000;
	ph.caplen = ph.len = (bpf_u_int32)len;
	pcap_dump((u_char *)o->d, &ph, f);
	if (o->manifest != NULL)
		fprintf(o->manifest, "%u %s\n", o->count, expect);
	o->count++;
}
