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
 *
 * Its other rooms are listed in pcapgen.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tests/lib/or_rand.h"
#include "tests/tools/or_client_msg.h"
#include "pcapgen.h"

const char gen_prog[] = "optroute-pcapgen";

/* The protocol version without --v1, --v2 or --auth-key: version 2, what
 * the dataplane checks by default (auth = yes); it needs --auth-key.
 * Version 1 (unsigned) only with --v1, for a dataplane run with auth = no. */
#define PCAPGEN_DEFAULT_VERSION OR_PROTO_V2

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
		gen_prog, PCAPGEN_DEFAULT_VERSION);
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
	struct gen_addrs a = {
		.src_mac = { 0x02, 0, 0, 0, 0, 0x0a },
		.dst_port = OR_PROTO_DEFAULT_PORT,
		.vlan = -1,
		.udp_csum = 1,
		.payload = 64,
	};
	struct gen_tokens tk = { .rnodes = 1 };
	const char *outp = NULL, *entries = NULL, *manifest = NULL;
	unsigned long count = 1000, bounce_pct = 10, xs_pct = 0;
	uint64_t seed = 1, rng;
	int malformed = 0, have_dmac = 0, have_dip = 0, c, rc = 1;
	int have_v1 = 0, have_v2 = 0, have_key = 0, have_time = 0;
	uint64_t u;
	struct gen_out o = { 0 };
	pcap_t *p = NULL;

	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", gen_prog);
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
					gen_prog);
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
				fprintf(stderr, "%s: -P: at most 1404\n", gen_prog);
				return 2;
			}
			break;
		case 'N': {
			char *s = optarg, *end;

			if (tk.routed == NULL) /* -N given again: adds */
				tk.routed = calloc(OR_NODE_MAX + 1, 1);
			if (tk.routed == NULL)
				return 1;
			for (;;) {
				unsigned long n = strtoul(s, &end, 10);

				if (end == s || n > OR_NODE_MAX) {
					fprintf(stderr, "%s: -N LIST\n", gen_prog);
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
				fprintf(stderr, "%s: --src-mac\n", gen_prog);
				return 2;
			}
			break;
		case O_SIP:
			if (inet_pton(AF_INET, optarg, &a.src_ip) != 1) {
				fprintf(stderr, "%s: --src-ip\n", gen_prog);
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
					"digits\n", gen_prog, 2 * OR_AUTH_KEY_LEN);
				return 2;
			}
			have_key = 1;
			break;
		}
		case O_EPOCH:
			if (or_cli_u64_parse(optarg, 0, 255, &u) != 0) {
				fprintf(stderr, "%s: --epoch: 0..255\n", gen_prog);
				return 2;
			}
			a.epoch = (uint8_t)u;
			break;
		case O_TIME:
			if (or_cli_u64_parse(optarg, 0, UINT64_MAX,
					     &a.send_time) != 0) {
				fprintf(stderr, "%s: --send-time-ms: ms since "
					"1970\n", gen_prog);
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
			"--auth-key or --send-time-ms\n", gen_prog);
		return 2;
	}
	if (a.version == OR_PROTO_V2 && !have_key) {
		fprintf(stderr, "%s: version 2 needs --auth-key HEX (K_auth); "
			"--v1 makes unsigned frames\n", gen_prog);
		return 2;
	}
	if (a.version == OR_PROTO_V2 && !have_time) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		a.send_time = (uint64_t)ts.tv_sec * 1000u +
			      (uint64_t)ts.tv_nsec / 1000000u;
	}
	if (entries != NULL && gen_load_entries(&tk, entries) != 0) {
		gen_tokens_free(&tk);
		return 1;
	}

	p = pcap_open_dead(DLT_EN10MB, 65535);
	o.d = p != NULL ? pcap_dump_open(p, outp) : NULL;
	if (o.d == NULL) {
		fprintf(stderr, "%s: %s: %s\n", gen_prog, outp,
			p != NULL ? pcap_geterr(p) : "pcap_open_dead failed");
		goto out;
	}
	if (manifest != NULL) {
		o.manifest = fopen(manifest, "w");
		if (o.manifest == NULL) {
			fprintf(stderr, "%s: %s: %s\n", gen_prog, manifest,
				strerror(errno));
			goto out;
		}
	}

	rng = seed;
	for (unsigned long i = 0; i < count; i++) {
		struct gen_entry s, r;
		uint64_t roll = or_rand_next(&rng) % 100;
		const char *expect;
		struct gen_layout L;

		if (roll < xs_pct) {
			gen_pick_not_in(&tk, &rng, &s);
			if (gen_pick_in(&tk, &rng, -1, &r) != 0)
				goto no_entries;
			expect = "drop sender_not_opted_in";
		} else {
			if (gen_pick_in(&tk, &rng, -1, &s) != 0)
				goto no_entries;
			if (roll < xs_pct + bounce_pct) {
				gen_pick_not_in(&tk, &rng, &r);
				expect = "bounce";
			} else {
				if (gen_pick_in(&tk, &rng, 1, &r) != 0)
					goto no_entries;
				expect = "deliver";
			}
		}
		a.src_port = (uint16_t)(40000 + i % 1000);
		L = gen_build_msg(f, &a, &s.t, &r.t, seed << 32 | i,
			      (uint8_t)(i & 3), (uint16_t)i);
		gen_emit(&o, f, L.len, expect);
	}
	a.src_port = 40000;
	if (malformed && gen_emit_malformed(&o, &tk, a, &rng) != 0)
		goto no_entries;
	rc = 0;
	fprintf(stderr, "%s: %u frames written to %s\n", gen_prog, o.count, outp);
	goto out;

no_entries:
	fprintf(stderr, "%s: not enough opted-in entries (with a next hop) to "
		"draw from\n", gen_prog);
out:
	if (o.d != NULL)
		pcap_dump_close(o.d);
	if (p != NULL)
		pcap_close(p);
	if (o.manifest != NULL && fclose(o.manifest) != 0)
		rc = 1;
	gen_tokens_free(&tk);
	sodium_memzero(&a.k_auth, sizeof(a.k_auth));
	return rc;
}
