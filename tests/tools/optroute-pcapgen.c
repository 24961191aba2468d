/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-pcapgen: writes a pcap file of optroute MSG frames
 * (include/optroute/proto.h, docs/protocol.md) for the dataplane's tests
 * and benchmark, and optionally a manifest of what the dataplane must do
 * with each frame.
 *
 * Tokens come from an entry file in optroute-chanctl's format
 * ("TOKENHEX in|out NODE [EPOCH]" per line) or from the same derivation as
 * `optroute-chanctl random -p PERMILLE -k NODES N SEED` (splitmix64, random
 * access, so 10 million entries need no file). See docs/dataplane.md.
 *
 * Frames are built by hand here, independently of dataplane/pkt/; the
 * optroute header by the reference client's code (or_client_msg.h).
 * Version 2 (--v2, or --auth-key): each MSG signed under the K_sender of
 * its sender token, derived from --auth-key (a K_auth) with the reference
 * or_auth_sender_key(); key_epoch --epoch, send_time --send-time-ms (so a
 * pcap can be made again byte for byte); the default. Version 1 (--v1):
 * unsigned, for a dataplane run with auth = no.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>
#include <sodium.h>

#include "optroute/auth.h"
#include "optroute/chan_client.h"
#include "optroute/proto.h"
#include "or_client_msg.h"
#include "or_random_entry.h"

static const char *prog = "optroute-pcapgen";

#define MAX_FRAME 9018

/* The protocol version without --v1, --v2 or --auth-key: version 2, what
 * the dataplane checks by default (auth = yes); it needs --auth-key.
 * Version 1 (unsigned) only with --v1, for a dataplane run with auth = no. */
#define PCAPGEN_DEFAULT_VERSION OR_PROTO_V2

/* ---------------------------------------------------------- tokens -- */

struct entry {
	struct or_token t;
	uint16_t node;
	uint8_t in;
};

struct tokens {
	/* entry file */
	struct entry *e;
	size_t n, alloc;
	size_t *in_idx, n_in; /* IN entries usable as recipients (with -N) */
	size_t *all_in, n_all_in;
	size_t *out_idx, n_out;
	/* random derivation */
	uint64_t rn, rseed, rpermille, rnodes;
	int random;
	/* nodes that have a next hop (-N); none = all */
	uint8_t *routed;
};

/* Entry i of `optroute-chanctl random`: it draws three splitmix64 values
 * per entry, and splitmix64's state only grows by a constant, so entry i
 * starts from seed + 3 * i * gamma. */
static void
random_entry(const struct tokens *tk, uint64_t i, struct entry *e)
{
	struct or_random_entry re;

	or_random_entry(tk->rseed, i, tk->rpermille, tk->rnodes, &re);
	e->t = re.t;
	e->in = re.in;
	e->node = re.node;
}

static void
tokens_free(struct tokens *tk)
{
	free(tk->e);
	free(tk->in_idx);
	free(tk->all_in);
	free(tk->out_idx);
	free(tk->routed);
}

static int
routed(const struct tokens *tk, uint16_t node)
{
	return tk->routed == NULL || tk->routed[node];
}

static int
load_entries(struct tokens *tk, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned ln = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char hex[64], st[8];
		unsigned node;
		struct entry e;
		char *c = strchr(line, '#');

		ln++;
		if (c != NULL)
			*c = '\0';
		if (sscanf(line, "%63s", hex) != 1)
			continue;
		if (sscanf(line, "%63s %7s %u", hex, st, &node) != 3 ||
		    or_chan_token_parse(hex, &e.t) != 0 || node > OR_NODE_MAX ||
		    (strcmp(st, "in") != 0 && strcmp(st, "out") != 0 &&
		     strcmp(st, "1") != 0 && strcmp(st, "2") != 0)) {
			fprintf(stderr, "%s: %s:%u: expected TOKENHEX in|out "
				"NODE [EPOCH]\n", prog, path, ln);
			fclose(f);
			return -1;
		}
		e.in = strcmp(st, "in") == 0 || strcmp(st, "1") == 0;
		e.node = (uint16_t)node;
		if (tk->n == tk->alloc) {
			size_t na = tk->alloc ? tk->alloc * 2 : 1024;
			void *p = realloc(tk->e, na * sizeof(*tk->e));

			if (p == NULL) {
				fclose(f);
				return -1;
			}
			tk->e = p;
			tk->alloc = na;
		}
		tk->e[tk->n++] = e;
	}
	fclose(f);
	tk->in_idx = calloc(tk->n + 1, sizeof(size_t));
	tk->all_in = calloc(tk->n + 1, sizeof(size_t));
	tk->out_idx = calloc(tk->n + 1, sizeof(size_t));
	if (tk->in_idx == NULL || tk->all_in == NULL || tk->out_idx == NULL)
		return -1;
	for (size_t i = 0; i < tk->n; i++) {
		if (!tk->e[i].in) {
			tk->out_idx[tk->n_out++] = i;
			continue;
		}
		tk->all_in[tk->n_all_in++] = i;
		if (routed(tk, tk->e[i].node))
			tk->in_idx[tk->n_in++] = i;
	}
	return 0;
}

/* An opted-in entry; want_routed: 1 routed node, 0 unrouted, -1 any. */
static int
pick_in(const struct tokens *tk, uint64_t *rng, int want_routed,
	struct entry *out)
{
	if (!tk->random) {
		if (want_routed == 1) {
			if (tk->n_in == 0)
				return -1;
			*out = tk->e[tk->in_idx[or_rand_next(rng) % tk->n_in]];
			return 0;
		}
		for (unsigned tries = 0; tries < 100000 && tk->n_all_in; tries++) {
			*out = tk->e[tk->all_in[or_rand_next(rng) % tk->n_all_in]];
			if (want_routed < 0 || !routed(tk, out->node))
				return 0;
		}
		return -1;
	}
	for (unsigned tries = 0; tries < 100000; tries++) {
		random_entry(tk, or_rand_next(rng) % tk->rn, out);
		if (out->in && (want_routed < 0 ||
				routed(tk, out->node) == want_routed))
			return 0;
	}
	return -1;
}

/* A recipient that is not opted in: an OUT entry if there are any, else a
 * token that is in no table (drawn from another stream; a collision with
 * a real entry has probability ~n/2^128). */
static void
pick_not_in(const struct tokens *tk, uint64_t *rng, struct entry *out)
{
	if (!tk->random && tk->n_out > 0 && or_rand_next(rng) % 2 == 0) {
		*out = tk->e[tk->out_idx[or_rand_next(rng) % tk->n_out]];
		return;
	}
	if (tk->random && tk->rpermille > 0 && or_rand_next(rng) % 2 == 0) {
		for (unsigned tries = 0; tries < 100000; tries++) {
			random_entry(tk, or_rand_next(rng) % tk->rn, out);
			if (!out->in)
				return;
		}
	}
	uint64_t a = or_rand_next(rng) ^ 0x5555aaaa5555aaaaull;
	uint64_t b = or_rand_next(rng) ^ 0xa5a5a5a55a5a5a5aull;

	memcpy(out->t.b, &a, 8);
	memcpy(out->t.b + 8, &b, 8);
	out->in = 0;
	out->node = 0;
}

/* ----------------------------------------------------------- frames -- */

/* How frames are built: addresses, and the protocol. */
struct addrs {
	uint8_t dst_mac[6], src_mac[6];
	uint32_t dst_ip, src_ip; /* network order */
	uint16_t dst_port, src_port; /* host order */
	int vlan;                /* VLAN id or -1 */
	int udp_csum;
	unsigned payload;
	uint8_t version;         /* OR_PROTO_V1 or OR_PROTO_V2 */
	uint8_t epoch;           /* version 2: key_epoch of every MSG */
	uint64_t send_time;      /* version 2: ms since the Unix epoch */
	struct or_auth_key k_auth; /* version 2: K_auth[epoch] */
};

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

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Offsets of the layers in a frame built by build_msg(). */
struct layout {
	size_t l3, l4, hdr, len;
};

static void
ip_csum(uint8_t *ip)
{
	put16(ip + 10, 0);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
}

static void
udp_csum(uint8_t *ip, const struct addrs *a)
{
	uint8_t *udp = ip + 20;
	uint16_t ulen = (uint16_t)(udp[4] << 8 | udp[5]);
	uint32_t acc = 0;
	uint16_t ck;

	put16(udp + 6, 0);
	if (!a->udp_csum)
		return;
	acc = csum_add(acc, ip + 12, 8); /* source and destination */
	acc += 17 + ulen;
	acc = csum_add(acc, udp, ulen);
	ck = csum_fold(acc);
	put16(udp + 6, ck == 0 ? 0xffff : ck);
}

/* Version 2: signs the header at h (anew after a change) under the
 * sender's K_sender. No-op in version 1. */
static void
sign_hdr(uint8_t *h, const struct addrs *a)
{
	struct or_auth_key ks;
	struct or_token snd;

	if (a->version != OR_PROTO_V2)
		return;
	memcpy(snd.b, h + 16, OR_TOKEN_LEN);
	if (or_auth_sender_key(&a->k_auth, &snd, &ks) != 0) {
		fprintf(stderr, "%s: AES failed\n", prog);
		exit(1);
	}
	or_cli_sign2(h, &ks);
	sodium_memzero(&ks, sizeof(ks));
}

/* A well-formed MSG (in version 1 of epoch `epoch`; in version 2 of
 * a->epoch, signed); returns its layout. */
static struct layout
build_msg(uint8_t *f, const struct addrs *a, const struct or_token *snd,
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
	struct layout L;
	uint8_t *ip, *udp, *h;
	size_t l2 = a->vlan >= 0 ? 18 : 14;
	uint16_t tot = (uint16_t)(20 + 8 + OR_HDR_LEN + a->payload);

	memcpy(f, a->dst_mac, 6);
	memcpy(f + 6, a->src_mac, 6);
	if (a->vlan >= 0) {
		put16(f + 12, 0x8100);
		put16(f + 14, (uint16_t)a->vlan);
		put16(f + 16, 0x0800);
	} else {
		put16(f + 12, 0x0800);
	}
	ip = f + l2;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, tot);
	put16(ip + 4, ip_id);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &a->src_ip, 4);
	memcpy(ip + 16, &a->dst_ip, 4);
	udp = ip + 20;
	put16(udp, a->src_port);
	put16(udp + 2, a->dst_port);
	put16(udp + 4, (uint16_t)(tot - 20));
	h = udp + 8;
	/* Version 1 carries this tag field unchanged; version 2 signs. */
	for (int i = 0; i < 16; i++)
		m.auth_tag[i] = (uint8_t)(0xa0 + i);
	for (unsigned i = 0; i < a->payload; i++)
		payload[i] = (uint8_t)(msg_id * 7 + i);
	(void)or_cli_build(a->version, h, MAX_FRAME - (size_t)(h - f), &m);
	sign_hdr(h, a);
	ip_csum(ip);
	udp_csum(ip, a);
	L.l3 = l2;
	L.l4 = l2 + 20;
	L.hdr = l2 + 28;
	L.len = l2 + tot;
	return L;
}

/* ------------------------------------------------------------ output -- */

struct out {
	pcap_dumper_t *d;
	FILE *manifest;
	unsigned count;
};

static void
emit(struct out *o, const uint8_t *f, size_t len, const char *expect)
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

/*
 * One frame per drop reason that a frame can carry (and one ARP request,
 * which is answered). Each starts from a MSG whose sender and recipient
 * are opted in (it would be delivered), then breaks one thing.
 */
static int
emit_malformed(struct out *o, const struct tokens *tk, struct addrs a,
	       uint64_t *rng)
{
	static uint8_t f[MAX_FRAME];
	struct entry s, r, x;
	struct layout L;
	uint8_t *ip, *udp, *h;
	uint64_t id = 0x6d616c0000000000ull;

	if (pick_in(tk, rng, 1, &s) != 0 || pick_in(tk, rng, 1, &r) != 0)
		return -1;
#define BASE() (L = build_msg(f, &a, &s.t, &r.t, id++, 0, 7), \
		ip = f + L.l3, udp = f + L.l4, h = f + L.hdr)
#define FIX() (ip_csum(ip), udp_csum(ip, &a))
/* A header field changed: signed anew (version 2), so that the named
 * fault is the frame's only one. */
#define HFIX() (sign_hdr(h, &a), FIX())
	const int v2 = a.version == OR_PROTO_V2;

	BASE(); emit(o, f, 10, "drop truncated");
	BASE(); f[6] = 0x01; emit(o, f, L.len, "drop bad_src_addr");
	BASE(); put16(f + 12, 0x88a8); emit(o, f, L.len, "drop vlan_stacked");
	BASE(); put16(f + 12, 0x86dd); emit(o, f, L.len, "drop not_ipv4");
	BASE(); f[5] ^= 0x40; emit(o, f, L.len, "drop not_for_us_mac");
	BASE(); emit(o, f, L.l3 + 10, "drop truncated");
	BASE(); ip[0] = 0x65; FIX(); emit(o, f, L.len, "drop bad_ip_hdr");
	BASE(); ip[0] = 0x46; FIX(); emit(o, f, L.len, "drop ip_options");
	BASE(); ip[10] ^= 0x11; emit(o, f, L.len, "drop bad_ip_csum");
	BASE(); put16(ip + 2, 12); FIX(); emit(o, f, L.len, "drop bad_ip_len");
	BASE(); emit(o, f, L.len - 1, "drop truncated");
	BASE(); put16(ip + 6, 0x2000); FIX(); emit(o, f, L.len, "drop fragment");
	BASE(); ip[19] ^= 0x01; FIX(); emit(o, f, L.len, "drop not_for_us_ip");
	BASE(); ip[12] = 127; FIX(); emit(o, f, L.len, "drop bad_src_addr");
	BASE(); ip[9] = 6; FIX(); emit(o, f, L.len, "drop not_udp");
	BASE(); ip[8] = 1; FIX(); emit(o, f, L.len, "drop ttl_expired");
	BASE(); put16(udp + 2, 9); FIX(); emit(o, f, L.len, "drop not_for_us_port");
	BASE(); put16(udp, 0); FIX(); emit(o, f, L.len, "drop bad_src_addr");
	BASE(); put16(udp + 4, 50); FIX(); emit(o, f, L.len, "drop bad_udp_len");
	BASE(); h[0] = 0x4e; HFIX(); emit(o, f, L.len, "drop bad_magic");
	/* Each version refuses the other (version 1 only with auth off). */
	BASE(); h[2] = v2 ? 1 : 2; HFIX(); emit(o, f, L.len, "drop bad_version");
	BASE(); h[3] = OR_TYPE_BOUNCE; HFIX(); emit(o, f, L.len, "drop bounce_to_us");
	BASE(); h[3] = 9; HFIX(); emit(o, f, L.len, "drop bad_type");
	BASE(); put16(h + (v2 ? OR_CLI_V2_PAYLOAD_LEN : 64), 3); HFIX();
	emit(o, f, L.len, "drop bad_payload_len");

	/* A MSG shorter than its header: IP and UDP lengths consistent. */
	{
		struct addrs b = a;

		b.payload = 0;
		L = build_msg(f, &b, &s.t, &r.t, id++, 0, 7);
		ip = f + L.l3;
		put16(ip + 2, 20 + 8 + 40);
		put16(ip + 20 + 4, 8 + 40);
		ip_csum(ip);
		udp_csum(ip, &b);
		emit(o, f, L.l3 + 68, "drop truncated");
	}

	/* Version 2's own checks (docs/protocol.md section 4), in their
	 * order: an epoch that is not live (the current one's opposite), a
	 * tag one bit off, a send_time an hour off, and a MSG accepted once
	 * then its very bytes again. */
	if (v2) {
		uint64_t off = a.send_time > 3600000 ? a.send_time - 3600000 :
						       a.send_time + 3600000;

		BASE(); h[5] ^= 0x80; HFIX(); emit(o, f, L.len, "drop unknown_epoch");
		BASE(); h[OR_HDR2_TAG_OFF] ^= 0x01; FIX(); emit(o, f, L.len, "drop bad_tag");
		BASE(); or_cli_put64(h + OR_CLI_V2_SEND_TIME, off); HFIX();
		emit(o, f, L.len, "drop stale");
		BASE(); emit(o, f, L.len, "deliver"); emit(o, f, L.len, "drop replay");
	}

	/* Decisions. */
	pick_not_in(tk, rng, &x);
	L = build_msg(f, &a, &x.t, &r.t, id++, 0, 7);
	emit(o, f, L.len, "drop sender_not_opted_in");
	pick_not_in(tk, rng, &x);
	L = build_msg(f, &a, &s.t, &x.t, id++, 0, 7);
	f[L.l4 + 6] ^= 0x01; /* wrong, non-zero UDP checksum */
	if (f[L.l4 + 6] == 0 && f[L.l4 + 7] == 0)
		f[L.l4 + 7] = 1;
	emit(o, f, L.len, "drop bad_udp_csum");
	if (tk->routed != NULL && pick_in(tk, rng, 0, &x) == 0) {
		L = build_msg(f, &a, &s.t, &x.t, id++, 0, 7);
		emit(o, f, L.len, "drop no_route");
	}
	/* Larger than one mbuf (2048 bytes of data room). */
	{
		struct addrs b = a;

		b.payload = 2400;
		L = build_msg(f, &b, &s.t, &r.t, id++, 0, 7);
		emit(o, f, L.len, "drop multi_seg");
	}

	/* ARP: one request answered, one for another address, one bad. */
	for (int k = 0; k < 3; k++) {
		size_t l2 = a.vlan >= 0 ? 18 : 14;
		uint8_t *arp = f + l2;

		memset(f, 0, 60);
		memset(f, 0xff, 6);
		memcpy(f + 6, a.src_mac, 6);
		if (a.vlan >= 0) {
			put16(f + 12, 0x8100);
			put16(f + 14, (uint16_t)a.vlan);
		}
		put16(f + l2 - 2, 0x0806);
		put16(arp, k == 2 ? 6 : 1);
		put16(arp + 2, 0x0800);
		arp[4] = 6;
		arp[5] = 4;
		put16(arp + 6, 1);
		memcpy(arp + 8, a.src_mac, 6);
		memcpy(arp + 14, &a.src_ip, 4);
		memcpy(arp + 24, &a.dst_ip, 4);
		if (k == 1)
			arp[27] ^= 0x01;
		emit(o, f, 60, k == 0 ? "arp" : k == 1 ? "drop arp_not_for_us" :
							  "drop bad_arp");
	}
#undef BASE
#undef FIX
#undef HFIX
	return 0;
}

/* -------------------------------------------------------------- main -- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: %s -o OUT.pcap (-e ENTRIES | -r N:SEED[:PERMILLE[:NODES]])\n"
		"       [-n COUNT] [-b PCT] [-x PCT] [-s SEED] [-P BYTES] [-N NODES]\n"
		"       [-m] [-l MANIFEST] --dst-mac MAC --dst-ip IP [--dst-port P]\n"
		"       [--src-mac MAC] [--src-ip IP] [--vlan VID] [--no-udp-csum]\n"
		"       [--v1 | [--v2] --auth-key HEX [--epoch E] [--send-time-ms T]]\n"
		"  -e FILE    entries in optroute-chanctl's format (TOKENHEX in|out NODE)\n"
		"  -r N:SEED[:PERMILLE[:NODES]]  the entries of `optroute-chanctl random\n"
		"             -p PERMILLE -k NODES N SEED` (defaults 0 and 1)\n"
		"  -n COUNT   MSG frames (default 1000)\n"
		"  -b PCT     of them with a recipient not opted in: bounced (default 10)\n"
		"  -x PCT     of them with a sender not opted in: dropped (default 0)\n"
		"  -s SEED    seed of the mix (default 1)\n"
		"  -P BYTES   payload per MSG (default 64)\n"
		"  -N LIST    nodes that have a next hop, e.g. 1,2 (default: all);\n"
		"             delivered recipients are drawn from these\n"
		"  -m         append one frame per malformed kind and ARP frames\n"
		"  -l FILE    manifest: 'INDEX deliver|bounce|arp|drop REASON' per frame\n"
		"  --v1       protocol version 1: unsigned, key_epoch index %% 4\n"
		"  --v2       protocol version 2 (implied by --auth-key): signed\n"
		"  --auth-key HEX  K_auth of the epoch (32 hex digits); each MSG is\n"
		"             signed under AES-128(K_auth, sender token)\n"
		"  --epoch E  version 2: key_epoch of every MSG, 0..255 (default 0)\n"
		"  --send-time-ms T  version 2: send_time of every MSG (default: now)\n"
		"  without --v1, --v2 or --auth-key: version %u\n"
		"  source ports vary per frame: 40000 + index %% 1000\n",
		prog, PCAPGEN_DEFAULT_VERSION);
}

static int
parse_mac(const char *s, uint8_t m[6])
{
	int n = -1;

	return sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &m[0], &m[1],
		      &m[2], &m[3], &m[4], &m[5], &n) == 6 && s[n] == '\0' ?
		       0 : -1;
}

int
main(int argc, char **argv)
{
	enum { O_DMAC = 256, O_DIP, O_DPORT, O_SMAC, O_SIP, O_VLAN, O_NOCS,
	       O_V1, O_V2, O_KEY, O_EPOCH, O_TIME };
	static const struct option lopts[] = {
		{ "dst-mac", required_argument, NULL, O_DMAC },
		{ "dst-ip", required_argument, NULL, O_DIP },
		{ "dst-port", required_argument, NULL, O_DPORT },
		{ "src-mac", required_argument, NULL, O_SMAC },
		{ "src-ip", required_argument, NULL, O_SIP },
		{ "vlan", required_argument, NULL, O_VLAN },
		{ "no-udp-csum", no_argument, NULL, O_NOCS },
		{ "v1", no_argument, NULL, O_V1 },
		{ "v2", no_argument, NULL, O_V2 },
		{ "auth-key", required_argument, NULL, O_KEY },
		{ "epoch", required_argument, NULL, O_EPOCH },
		{ "send-time-ms", required_argument, NULL, O_TIME },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t f[MAX_FRAME];
	struct addrs a = {
		.src_mac = { 0x02, 0, 0, 0, 0, 0x0a },
		.dst_port = OR_PROTO_DEFAULT_PORT,
		.vlan = -1,
		.udp_csum = 1,
		.payload = 64,
	};
	struct tokens tk = { .rnodes = 1 };
	const char *outp = NULL, *entries = NULL, *manifest = NULL;
	unsigned long count = 1000, bounce_pct = 10, xs_pct = 0;
	uint64_t seed = 1, rng;
	int malformed = 0, have_dmac = 0, have_dip = 0, c, rc = 1;
	int have_v1 = 0, have_v2 = 0, have_key = 0, have_time = 0;
	uint64_t u;
	struct out o = { 0 };
	pcap_t *p = NULL;

	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", prog);
		return 1;
	}
	inet_pton(AF_INET, "192.0.2.10", &a.src_ip);
	while ((c = getopt_long(argc, argv, "o:e:r:n:b:x:s:P:N:ml:h", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'o': outp = optarg; break;
		case 'e': entries = optarg; break;
		case 'r':
			tk.random = 1;
			if (sscanf(optarg, "%" SCNu64 ":%" SCNu64 ":%" SCNu64
				   ":%" SCNu64, &tk.rn, &tk.rseed,
				   &tk.rpermille, &tk.rnodes) < 2 ||
			    tk.rn == 0 || tk.rpermille > 1000 ||
			    tk.rnodes == 0 || tk.rnodes > OR_NODE_MAX + 1ull) {
				fprintf(stderr, "%s: -r N:SEED[:PERMILLE[:NODES]]\n",
					prog);
				return 2;
			}
			break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'b': bounce_pct = strtoul(optarg, NULL, 10); break;
		case 'x': xs_pct = strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'P':
			a.payload = (unsigned)strtoul(optarg, NULL, 10);
			if (a.payload > 1404) {
				fprintf(stderr, "%s: -P: at most 1404\n", prog);
				return 2;
			}
			break;
		case 'N': {
			char *s = optarg, *end;

			tk.routed = calloc(OR_NODE_MAX + 1, 1);
			if (tk.routed == NULL)
				return 1;
			for (;;) {
				unsigned long n = strtoul(s, &end, 10);

				if (end == s || n > OR_NODE_MAX) {
					fprintf(stderr, "%s: -N LIST\n", prog);
					return 2;
				}
				tk.routed[n] = 1;
				if (*end != ',')
					break;
				s = end + 1;
			}
			break;
		}
		case 'm': malformed = 1; break;
		case 'l': manifest = optarg; break;
		case O_DMAC: have_dmac = parse_mac(optarg, a.dst_mac) == 0; break;
		case O_DIP: have_dip = inet_pton(AF_INET, optarg, &a.dst_ip) == 1; break;
		case O_DPORT: a.dst_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case O_SMAC:
			if (parse_mac(optarg, a.src_mac) != 0) {
				fprintf(stderr, "%s: --src-mac\n", prog);
				return 2;
			}
			break;
		case O_SIP:
			if (inet_pton(AF_INET, optarg, &a.src_ip) != 1) {
				fprintf(stderr, "%s: --src-ip\n", prog);
				return 2;
			}
			break;
		case O_VLAN: a.vlan = (int)(strtoul(optarg, NULL, 10) & 0xfff); break;
		case O_NOCS: a.udp_csum = 0; break;
		case O_V1: have_v1 = 1; break;
		case O_V2: have_v2 = 1; break;
		case O_KEY: {
			size_t n = 0;

			if (strlen(optarg) != 2 * OR_AUTH_KEY_LEN ||
			    or_cli_hex_parse(optarg, a.k_auth.b, OR_AUTH_KEY_LEN,
					     &n) != 0 || n != OR_AUTH_KEY_LEN) {
				fprintf(stderr, "%s: --auth-key: expected %d hex "
					"digits\n", prog, 2 * OR_AUTH_KEY_LEN);
				return 2;
			}
			have_key = 1;
			break;
		}
		case O_EPOCH:
			if (or_cli_u64_parse(optarg, 0, 255, &u) != 0) {
				fprintf(stderr, "%s: --epoch: 0..255\n", prog);
				return 2;
			}
			a.epoch = (uint8_t)u;
			break;
		case O_TIME:
			if (or_cli_u64_parse(optarg, 0, UINT64_MAX,
					     &a.send_time) != 0) {
				fprintf(stderr, "%s: --send-time-ms: ms since "
					"1970\n", prog);
				return 2;
			}
			have_time = 1;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (outp == NULL || (entries == NULL) == !tk.random || !have_dmac ||
	    !have_dip || bounce_pct + xs_pct > 100 || optind != argc) {
		usage(stderr);
		return 2;
	}
	a.version = have_v1 ? OR_PROTO_V1 : have_v2 || have_key ? OR_PROTO_V2 :
		    PCAPGEN_DEFAULT_VERSION;
	if (have_v1 && (have_v2 || have_key || have_time)) {
		fprintf(stderr, "%s: --v1 frames are unsigned: no --v2, "
			"--auth-key or --send-time-ms\n", prog);
		return 2;
	}
	if (a.version == OR_PROTO_V2 && !have_key) {
		fprintf(stderr, "%s: version 2 needs --auth-key HEX (K_auth); "
			"--v1 makes unsigned frames\n", prog);
		return 2;
	}
	if (a.version == OR_PROTO_V2 && !have_time) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		a.send_time = (uint64_t)ts.tv_sec * 1000u +
			      (uint64_t)ts.tv_nsec / 1000000u;
	}
	if (entries != NULL && load_entries(&tk, entries) != 0) {
		tokens_free(&tk);
		return 1;
	}

	p = pcap_open_dead(DLT_EN10MB, 65535);
	o.d = p != NULL ? pcap_dump_open(p, outp) : NULL;
	if (o.d == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, outp,
			p != NULL ? pcap_geterr(p) : "pcap_open_dead failed");
		goto out;
	}
	if (manifest != NULL) {
		o.manifest = fopen(manifest, "w");
		if (o.manifest == NULL) {
			fprintf(stderr, "%s: %s: %s\n", prog, manifest,
				strerror(errno));
			goto out;
		}
	}

	rng = seed;
	for (unsigned long i = 0; i < count; i++) {
		struct entry s, r;
		uint64_t roll = or_rand_next(&rng) % 100;
		const char *expect;
		struct layout L;

		if (roll < xs_pct) {
			pick_not_in(&tk, &rng, &s);
			if (pick_in(&tk, &rng, -1, &r) != 0)
				goto no_entries;
			expect = "drop sender_not_opted_in";
		} else {
			if (pick_in(&tk, &rng, -1, &s) != 0)
				goto no_entries;
			if (roll < xs_pct + bounce_pct) {
				pick_not_in(&tk, &rng, &r);
				expect = "bounce";
			} else {
				if (pick_in(&tk, &rng, 1, &r) != 0)
					goto no_entries;
				expect = "deliver";
			}
		}
		a.src_port = (uint16_t)(40000 + i % 1000);
		L = build_msg(f, &a, &s.t, &r.t, seed << 32 | i,
			      (uint8_t)(i & 3), (uint16_t)i);
		emit(&o, f, L.len, expect);
	}
	a.src_port = 40000;
	if (malformed && emit_malformed(&o, &tk, a, &rng) != 0)
		goto no_entries;
	rc = 0;
	fprintf(stderr, "%s: %u frames written to %s\n", prog, o.count, outp);
	goto out;

no_entries:
	fprintf(stderr, "%s: not enough opted-in entries (with a next hop) to "
		"draw from\n", prog);
out:
	if (o.d != NULL)
		pcap_dump_close(o.d);
	if (p != NULL)
		pcap_close(p);
	if (o.manifest != NULL && fclose(o.manifest) != 0)
		rc = 1;
	tokens_free(&tk);
	sodium_memzero(&a.k_auth, sizeof(a.k_auth));
	return rc;
}
