/* Frame builder shared by the pkt unit tests. It writes every byte by hand
 * (big-endian helpers, its own checksum code), independent of the DPDK
 * structs and checksum functions the code under test uses, so that the
 * expected frames are an independent statement of docs/protocol.md. */
#ifndef TEST_PKT_UTIL_H
#define TEST_PKT_UTIL_H

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>

#include "optroute/auth.h"
#include "optroute/proto.h"
#include "dataplane/pkt/pkt_classify.h"
#include "dataplane/pkt/pkt_decide.h"

#define T_FRAME_MAX 2048

/* Addresses (documentation ranges only). */
#define T_CLI_IP 0xc000020au  /* 192.0.2.10, the sender */
#define T_APP_IP 0xc6336401u  /* 198.51.100.1, the appliance */
#define T_NH_SRC_IP 0xcb007101u /* 203.0.113.1, appliance on egress */
#define T_NH_DST_IP 0xcb007105u /* 203.0.113.5, delivery node */
#define T_CLI_PORT 40000u
#define T_APP_PORT OR_PROTO_DEFAULT_PORT
#define T_NH_DST_PORT 7041u
#define T_NODE 5u
#define T_NH_PORT_ID 1u

static const struct rte_ether_addr t_cli_mac = {{0x02, 0, 0, 0, 0, 0x0a}};
static const struct rte_ether_addr t_app_mac = {{0x02, 0, 0, 0, 0x01, 0x01}};
static const struct rte_ether_addr t_nh_src_mac = {{0x02, 0, 0, 0, 0x02, 0x01}};
static const struct rte_ether_addr t_nh_dst_mac = {{0x02, 0, 0, 0, 0x02, 0x05}};

struct t_spec {
	int vlan;
	uint16_t tci;
	struct rte_ether_addr dmac, smac;
	uint16_t ethertype;
	uint32_t sip, dip;
	uint8_t tos, ttl, proto;
	uint16_t ip_id, frag;
	uint16_t sport, dport;
	int udp_ck; /* 1: correct checksum, 0: none */
	uint16_t magic;
	uint8_t version, type, flags, epoch, reason;
	uint64_t msg_id;
	uint64_t send_time;   /* version 2: ms since the Unix epoch */
	uint16_t payload_len; /* header field and payload bytes written */
	uint16_t pad;         /* zero bytes after the IP datagram */
};

static inline void
t_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
t_put32(uint8_t *p, uint32_t v)
{
	t_put16(p, (uint16_t)(v >> 16));
	t_put16(p + 2, (uint16_t)v);
}

static inline uint16_t
t_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
t_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += t_get16(p + i);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* Sets the IPv4 header checksum at frame + l3 (IHL taken from the header). */
static inline void
t_fix_ip_csum(uint8_t *frame, uint16_t l3)
{
	uint8_t *ip = frame + l3;
	size_t hl = (size_t)(ip[0] & 0xf) * 4;

	t_put16(ip + 10, 0);
	t_put16(ip + 10, (uint16_t)~t_sum(ip, hl, 0));
}

/* The correct UDP checksum of the datagram at frame + l3 (IHL 5). */
static inline uint16_t
t_udp_csum(const uint8_t *frame, uint16_t l3)
{
	const uint8_t *ip = frame + l3;
	const uint8_t *udp = ip + 20;
	uint16_t ulen = t_get16(udp + 4);
	uint8_t ph[12];
	uint8_t tmp[T_FRAME_MAX];
	uint16_t ck;

	if (ulen < 8 || ulen > T_FRAME_MAX - 64)
		return 0; /* never a valid checksum of ours: tests catch it */
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	t_put16(ph + 10, ulen);
	memcpy(tmp, udp, ulen);
	t_put16(tmp + 6, 0);
	ck = (uint16_t)~t_sum(tmp, ulen, t_sum(ph, 12, 0));
	return ck == 0 ? 0xffff : ck;
}

static inline void
t_fix_udp_csum(uint8_t *frame, uint16_t l3)
{
	t_put16(frame + l3 + 26, t_udp_csum(frame, l3));
}

static inline struct t_spec
t_spec_msg(int vlan, uint16_t payload_len)
{
	struct t_spec s = {
		.vlan = vlan, .tci = 0x2064, /* PCP 1, VLAN 100 */
		.dmac = t_app_mac, .smac = t_cli_mac,
		.ethertype = RTE_ETHER_TYPE_IPV4,
		.sip = T_CLI_IP, .dip = T_APP_IP,
		.tos = 0x28, .ttl = 64, .proto = 17, .ip_id = 0x1234,
		.frag = 0x4000 /* DF */,
		.sport = T_CLI_PORT, .dport = T_APP_PORT, .udp_ck = 1,
		.magic = OR_PROTO_MAGIC, .version = OR_PROTO_V1,
		.type = OR_TYPE_MSG, .flags = 0, .epoch = 3, .reason = 0,
		.msg_id = 0x0102030405060708ull,
		.payload_len = payload_len, .pad = 0,
	};
	return s;
}

static inline uint16_t
t_l3(const struct t_spec *s)
{
	return s->vlan ? 18 : 14;
}

/* Writes the frame, returns its length. */
static inline uint16_t
t_build(uint8_t *f, const struct t_spec *s)
{
	uint16_t l3 = t_l3(s);
	uint16_t tot = (uint16_t)(20 + 8 + OR_HDR_LEN + s->payload_len);
	uint8_t *ip = f + l3, *udp = ip + 20, *h = udp + 8;
	unsigned i;

	memset(f, 0, (size_t)l3 + tot + s->pad);
	memcpy(f, s->dmac.addr_bytes, 6);
	memcpy(f + 6, s->smac.addr_bytes, 6);
	if (s->vlan) {
		t_put16(f + 12, RTE_ETHER_TYPE_VLAN);
		t_put16(f + 14, s->tci);
	}
	t_put16(f + l3 - 2, s->ethertype);

	ip[0] = 0x45;
	ip[1] = s->tos;
	t_put16(ip + 2, tot);
	t_put16(ip + 4, s->ip_id);
	t_put16(ip + 6, s->frag);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	t_put32(ip + 12, s->sip);
	t_put32(ip + 16, s->dip);
	t_fix_ip_csum(f, l3);

	t_put16(udp, s->sport);
	t_put16(udp + 2, s->dport);
	t_put16(udp + 4, (uint16_t)(tot - 20));

	t_put16(h, s->magic);
	h[2] = s->version;
	h[3] = s->type;
	h[4] = s->flags;
	h[5] = s->epoch;
	h[6] = s->reason;
	h[7] = 0;
	t_put32(h + 8, (uint32_t)(s->msg_id >> 32));
	t_put32(h + 12, (uint32_t)s->msg_id);
	for (i = 0; i < 16; i++) {
		h[16 + i] = (uint8_t)(0x10 + i); /* sender token */
		h[32 + i] = (uint8_t)(0x20 + i); /* recipient token */
		h[48 + i] = (uint8_t)(0xa0 + i); /* auth tag (version 1) */
	}
	if (s->version == OR_PROTO_V2) {
		/* send time, payload_len, reserved2; the tag (60..67) stays
		 * a0.. until t_sign2() signs the frame. */
		t_put32(h + 48, (uint32_t)(s->send_time >> 32));
		t_put32(h + 52, (uint32_t)s->send_time);
		t_put16(h + 56, s->payload_len);
		t_put16(h + 58, 0);
	} else {
		t_put16(h + 64, s->payload_len);
	}
	for (i = 0; i < s->payload_len; i++)
		h[OR_HDR_LEN + i] = (uint8_t)(i * 7 + 1);
	if (s->udp_ck)
		t_fix_udp_csum(f, l3);
	return (uint16_t)(l3 + tot + s->pad);
}

static inline struct or_port_addr
t_pa(void)
{
	struct or_port_addr pa = {
		.mac = t_app_mac,
		.ip = rte_cpu_to_be_32(T_APP_IP),
		.udp_port = rte_cpu_to_be_16(T_APP_PORT),
		.version = OR_PROTO_V1,
		.mtu = 1500,
	};
	return pa;
}

static inline struct or_nexthop
t_nh(void)
{
	struct or_nexthop nh = {
		.valid = 1, .port_id = T_NH_PORT_ID,
		.src_mac = t_nh_src_mac, .dst_mac = t_nh_dst_mac,
		.src_ip = rte_cpu_to_be_32(T_NH_SRC_IP),
		.dst_ip = rte_cpu_to_be_32(T_NH_DST_IP),
		.src_udp = rte_cpu_to_be_16(T_APP_PORT),
		.dst_udp = rte_cpu_to_be_16(T_NH_DST_PORT),
	};
	return nh;
}

/* Hex digits in pairs into out; everything else is ignored (the hex
 * dumps of docs/protocol.md). Returns the bytes written. */
static inline uint16_t
t_unhex(const char *s, uint8_t *out)
{
	uint16_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (!isxdigit((unsigned char)*s))
			continue;
		v = isdigit((unsigned char)*s) ? *s - '0' :
						 tolower((unsigned char)*s) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

/* Version 2: signs the frame t_build() made from s with the K_sender of
 * its sender token under k_auth (the reference, common/auth), then fixes
 * the UDP checksum again if s asks for one. */
static inline void
t_sign2(uint8_t *f, const struct t_spec *s, const struct or_auth_key *k_auth)
{
	struct or_hdr2 *h = (struct or_hdr2 *)(f + t_l3(s) + 28);
	struct or_auth_key ks;

	if (or_auth_sender_key(k_auth, &h->sender, &ks) != 0)
		abort();
	or_auth_sign(&ks, h);
	if (s->udp_ck)
		t_fix_udp_csum(f, t_l3(s));
}

#endif
