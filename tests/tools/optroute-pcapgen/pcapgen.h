/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-pcapgen (main.c, docs/dataplane.md): the tokens it
 * draws from (tokens.c), the frames it builds (frames.c), and the frames
 * that each carry one fault (malformed.c).
 */
#ifndef OPTROUTE_PCAPGEN_H
#define OPTROUTE_PCAPGEN_H

#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "optroute/auth.h"
#include "optroute/proto.h"

extern const char gen_prog[];

#define MAX_FRAME 9018

/* ---------------------------------------------------------- tokens -- */

struct gen_entry {
	struct or_token t;
	uint16_t node;
	uint8_t in;
};

struct gen_tokens {
	/* entry file */
	struct gen_entry *e;
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

void gen_tokens_free(struct gen_tokens *tk);
int gen_load_entries(struct gen_tokens *tk, const char *path);
int gen_pick_in(const struct gen_tokens *tk, uint64_t *rng, int want_routed,
		struct gen_entry *out);
void gen_pick_not_in(const struct gen_tokens *tk, uint64_t *rng,
		     struct gen_entry *out);

/* ----------------------------------------------------------- frames -- */

/* How frames are built are built: addresses, and the protocol. */
struct gen_addrs {
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

/* Offsets of the layers in a frame built by gen_build_msg(). */
struct gen_layout {
	size_t l3, l4, hdr, len;
};

void gen_put16(uint8_t *p, uint16_t v);
void gen_ip_csum(uint8_t *ip);
void gen_udp_csum(uint8_t *ip, const struct gen_addrs *a);
void gen_sign_hdr(uint8_t *h, const struct gen_addrs *a);
struct gen_layout gen_build_msg(uint8_t *f, const struct gen_addrs *a,
				const struct or_token *snd,
				const struct or_token *rcp, uint64_t msg_id,
				uint8_t epoch, uint16_t ip_id);

/* ------------------------------------------------------------ output -- */

struct gen_out {
	pcap_dumper_t *d;
	FILE *manifest;
	unsigned count;
};

void gen_emit(struct gen_out *o, const uint8_t *f, size_t len,
	      const char *expect);
int gen_emit_malformed(struct gen_out *o, const struct gen_tokens *tk,
		       struct gen_addrs a, uint64_t *rng);

#endif
