/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl's command line from the daemon's list of commands; see
 * ctl_cmd.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/lib/keys.h"
#include "control/lib/token.h"

#include "ctl_cmd.h"

_Static_assert(sizeof(((struct ctl *)0)->seal_pk) == OR_SEAL_PK_LEN,
	       "seal_pk holds the daemon's sealing key");

/* The options: the request field each gives, its usage (NULL: shown with
 * the positional, see ctl_cmd_usage). Indexes are bits of c->opts. */
enum {
	O_TOKEN, O_SEALED, O_NODE, O_NOTICE, O_METHOD, O_SEAL, O_WAIT,
	O_CLEAR, O_CHUNK, O_VERIFY, O_OPTIN, O_OPTOUT, O_PUBKEY,
	O_PUBKEY_FILE, O_FORGET, O_AFTER_SEQ, O_COUNT,
};

static const struct ctl_opt {
	const char *name;
	int arg;
	unsigned field;
	const char *usage;
} ctl_opts[O_COUNT] = {
	[O_TOKEN] = { "token", 1, OR_MGMT_F_TOKEN, NULL },
	[O_SEALED] = { "sealed", 1, OR_MGMT_F_SEALED, NULL },
	[O_NODE] = { "node", 1, OR_MGMT_F_NODE, "[--node N]" },
	[O_NOTICE] = { "notice", 1, OR_MGMT_F_NOTICE, "[--notice V]" },
	[O_METHOD] = { "method", 1, OR_MGMT_F_METHOD, "[--method M]" },
	/* seals a NUMBER: wherever a number may be the subject */
	[O_SEAL] = { "seal", 0, OR_MGMT_F_NUMBER, "[--seal]" },
	/* 2: an optional argument (--wait=fleet) */
	[O_WAIT] = { "wait", 2, OR_MGMT_F_WAIT, "[--wait[=fleet]]" },
	[O_CLEAR] = { "clear", 0, OR_MGMT_F_CLEAR, "[--clear]" },
	[O_CHUNK] = { "chunk", 1, OR_MGMT_F_LINES, "[--chunk LINES]" },
	[O_VERIFY] = { "verify", 0, CTL_F_NONE, NULL },
	[O_OPTIN] = { "optin", 0, OR_MGMT_F_ACTION, NULL },
	[O_OPTOUT] = { "optout", 0, OR_MGMT_F_ACTION, NULL },
	[O_PUBKEY] = { "pubkey", 1, OR_MGMT_F_PUBKEY, NULL },
	[O_PUBKEY_FILE] = { "pubkey-file", 1, OR_MGMT_F_PUBKEY, NULL },
	[O_FORGET] = { "forget", 1, OR_MGMT_F_FORGET, "[--forget NAME]" },
	[O_AFTER_SEQ] = { "after-seq", 1, OR_MGMT_F_AFTER_SEQ,
			  "[--after-seq N]" },
};

/* The fields an entry lets the command line give (CTL_F_NONE where its
 * subject is optional). */
static unsigned
ctl_cmd_allows(const struct or_mgmt_cmd_info *i)
{
	unsigned f = i->fields;

	if ((f & OR_MGMT_F_SUBJ) && !(i->needs & OR_MGMT_F_SUBJ))
		f |= CTL_F_NONE;
	return f;
}

/* ------------------------------------------------------------- usage -- */

/* The command's line: what it needs (positionals first), then the
 * options in brackets; needed_only: the first part alone. */
static void
ctl_cmd_usage(const struct or_mgmt_cmd_info *i, int needed_only, char *buf,
	      size_t len)
{
	unsigned f = i->fields;
	size_t off = 0;

#define CTL_ADD(...)                                                          \
	do {                                                                  \
		if (off < len)                                                \
			off += (size_t)snprintf(buf + off, len - off,         \
						__VA_ARGS__);                 \
	} while (0)
	CTL_ADD("%s", i->name);
	if (f & OR_MGMT_F_LINES)
		CTL_ADD(" FILE|-");
	if (f & OR_MGMT_F_ACTION)
		CTL_ADD(" --optin|--optout");
	if (i->needs & OR_MGMT_F_SUBJ)
		CTL_ADD(" SUBJECT");
	else if (f & OR_MGMT_F_SUBJ)
		CTL_ADD(" SUBJECT|--verify");
	if (i->needs & OR_MGMT_F_PUBKEY)
		CTL_ADD(" --pubkey B64|--pubkey-file F");
	if (needed_only)
		return;
	if ((f & OR_MGMT_F_PUBKEY) && !(i->needs & OR_MGMT_F_PUBKEY))
		CTL_ADD(" [--pubkey B64|--pubkey-file F]");
	for (unsigned o = 0; o < O_COUNT; o++)
		if (ctl_opts[o].usage != NULL && (f & ctl_opts[o].field))
			CTL_ADD(" %s", ctl_opts[o].usage);
#undef CTL_ADD
}

void
ctl_usage(FILE *f)
{
	char line[256];

	fprintf(f,
"usage: optroutectl [-s SOCK] [-j] [-t MS] COMMAND [ARGS]\n"
"  -s, --socket SOCK   management socket (default $OPTROUTE_CONTROL_SOCKET\n"
"                      or " OR_MGMT_DEFAULT_SOCKET ")\n"
"  -j, --json          print the JSON reply\n"
"  -t, --timeout MS    reply timeout (default 30000)\n"
"commands (SUBJECT is NUMBER, '-' to read the number from stdin,\n"
"          --token HEX or --sealed BASE64; --seal seals the number to the\n"
"          daemon's key here; RO: a read-only client may run it):\n");
	for (unsigned c = OR_MGMT_CMD_NONE + 1; c < OR_MGMT_CMD_COUNT; c++) {
		const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(c);

		size_t col = 2;
		char *p, *q;

		ctl_cmd_usage(i, 0, line, sizeof(line));
		/* Wrapped before an option that would pass column 78. */
		fputs("  ", f);
		for (p = line; *p != '\0'; p = q) {
			q = strstr(p + 1, " [");
			if (q == NULL)
				q = p + strlen(p);
			if (p != line && col + (size_t)(q - p) > 78) {
				fputs("\n       ", f);
				col = 7;
			}
			fwrite(p, 1, (size_t)(q - p), f);
			col += (size_t)(q - p);
		}
		fprintf(f, "\n      %s%s\n", i->help,
			i->readonly ? " (RO)" : "");
	}
	fprintf(f,
"Numbers on the command line are visible in the process list for a\n"
"moment: prefer '-' and stdin for provisioning, and --seal.\n");
}

/* -------------------------------------------------------------- args -- */

int
ctl_parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One option's value into c. 0 or -EINVAL (a bad value). */
static int
ctl_set_opt(struct ctl *c, unsigned o, const char *arg)
{
	long long v;

	switch (o) {
	case O_TOKEN:
		c->token = arg;
		break;
	case O_SEALED:
		c->sealed = arg;
		break;
	case O_SEAL:
		c->seal = 1;
		break;
	case O_NODE:
		if (ctl_parse_int(arg, 0, 65535, &v) < 0)
			return -EINVAL;
		c->node = (int)v;
		break;
	case O_NOTICE:
		if (ctl_parse_int(arg, 0, 4294967295LL, &v) < 0)
			return -EINVAL;
		c->notice = v;
		break;
	case O_METHOD:
		c->method = arg;
		break;
	case O_WAIT:
		if (arg != NULL && strcmp(arg, "fleet") != 0)
			return -EINVAL;
		c->wait = arg != NULL ? 2 : 1;
		break;
	case O_CLEAR:
		c->clear = 1;
		break;
	case O_VERIFY:
		c->verify = 1;
		break;
	case O_OPTIN:
	case O_OPTOUT:
		c->optin = o == O_OPTIN;
		break;
	case O_PUBKEY:
		c->pubkey = arg;
		break;
	case O_PUBKEY_FILE:
		c->pubkey_file = arg;
		break;
	case O_FORGET:
		c->forget = arg;
		break;
	case O_AFTER_SEQ:
		if (ctl_parse_int(arg, 1, INT64_MAX, &v) < 0)
			return -EINVAL;
		c->after_seq = v;
		break;
	case O_CHUNK:
		if (ctl_parse_int(arg, 1, OR_MGMT_IMPORT_MAX_LINES, &v) < 0)
			return -EINVAL;
		c->chunk = (unsigned)v;
		break;
	}
	return 0;
}

int
ctl_parse_cmd_args(struct ctl *c, int argc, char **argv)
{
	struct option opts[O_COUNT + 1];
	int o;

	c->cmd = argv[0];
	c->info = or_mgmt_cmd_info(or_mgmt_cmd_parse(argv[0]));
	if (c->info == NULL) {
		fprintf(stderr, "optroutectl: unknown command '%s' (try help)\n",
			argv[0]);
		return CTL_EXIT_USAGE;
	}
	for (unsigned i = 0; i < O_COUNT; i++)
		opts[i] = (struct option){ ctl_opts[i].name,
					   ctl_opts[i].arg == 2
						   ? optional_argument
					   : ctl_opts[i].arg ? required_argument
							     : no_argument,
					   NULL, (int)i };
	opts[O_COUNT] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0;
	opterr = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o < 0 || o >= O_COUNT)
			return CTL_EXIT_USAGE;
		c->opts |= 1u << o;
		if (ctl_opts[o].field != OR_MGMT_F_NUMBER) /* --seal */
			c->given |= ctl_opts[o].field;
		if (ctl_set_opt(c, (unsigned)o, optarg) < 0) {
			fprintf(stderr, "optroutectl: invalid value for --%s\n",
				ctl_opts[o].name);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		c->number = argv[optind];
		c->given |= c->info->fields & OR_MGMT_F_LINES ? OR_MGMT_F_LINES
							      : OR_MGMT_F_NUMBER;
		/* Keep the number out of /proc/PID/cmdline from now on. */
		if (strcmp(argv[optind], "-") != 0) {
			c->arg_copy = strdup(argv[optind]);
			if (c->arg_copy == NULL)
				return CTL_EXIT_ERROR;
			sodium_memzero(argv[optind], strlen(argv[optind]));
			c->number = c->arg_copy;
		}
		optind++;
	}
	if (optind < argc) {
		fprintf(stderr, "optroutectl: unexpected argument\n");
		return CTL_EXIT_USAGE;
	}
	return 0;
}

int
ctl_cmd_check(const struct ctl *c, char *err, size_t errlen)
{
	const struct or_mgmt_cmd_info *i = c->info;
	unsigned allows = ctl_cmd_allows(i);
	unsigned subj = (unsigned)__builtin_popcount(c->given & OR_MGMT_F_SUBJ);
	char line[256];

	for (unsigned o = 0; o < O_COUNT; o++) {
		if (!(c->opts & (1u << o)) || (allows & ctl_opts[o].field))
			continue;
		snprintf(err, errlen, "--%s is not an option of %s (try help)",
			 ctl_opts[o].name, i->name);
		return CTL_EXIT_USAGE;
	}
	/* A positional where the command takes none (a subject's NUMBER
	 * is checked with the fields: the entry allows "number" or not). */
	if ((c->given & ~allows) != 0) {
		snprintf(err, errlen, "unexpected argument");
		return CTL_EXIT_USAGE;
	}
	if (subj > 1) {
		snprintf(err, errlen, "give one subject: NUMBER, '-', --token "
				      "or --sealed");
		return CTL_EXIT_USAGE;
	}
	if (c->seal && !(c->given & OR_MGMT_F_NUMBER)) {
		snprintf(err, errlen, "--seal seals a NUMBER (or '-'), not "
				      "--token or --sealed");
		return CTL_EXIT_USAGE;
	}
	if (c->verify && subj > 0) {
		snprintf(err, errlen, "--verify takes no subject");
		return CTL_EXIT_USAGE;
	}
	if (subj == 0 && (i->fields & OR_MGMT_F_SUBJ) && !c->verify) {
		snprintf(err, errlen, "give a NUMBER, '-', --token or --sealed%s",
			 i->needs & OR_MGMT_F_SUBJ ? "" : " (or --verify)");
		return CTL_EXIT_USAGE;
	}
	if (c->pubkey != NULL && c->pubkey_file != NULL) {
		snprintf(err, errlen, "give --pubkey or --pubkey-file, not both");
		return CTL_EXIT_USAGE;
	}
	if ((i->needs & OR_MGMT_F_PUBKEY) && !(c->given & OR_MGMT_F_PUBKEY)) {
		snprintf(err, errlen, "%s needs --pubkey or --pubkey-file",
			 i->name);
		return CTL_EXIT_USAGE;
	}
	if ((c->opts & (1u << O_OPTIN)) && (c->opts & (1u << O_OPTOUT))) {
		snprintf(err, errlen, "give --optin or --optout, not both");
		return CTL_EXIT_USAGE;
	}
	/* Anything else it needs (import: FILE and --optin|--optout). */
	if ((i->needs & ~(OR_MGMT_F_SUBJ | OR_MGMT_F_PUBKEY) & ~c->given) !=
	    0) {
		ctl_cmd_usage(i, 1, line, sizeof(line));
		snprintf(err, errlen, "%s", line);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/* ----------------------------------------------------------- request -- */

/* Reads one number from stdin into buf (newline stripped). */
static int
ctl_read_number(char *buf, size_t cap, size_t *len)
{
	if (fgets(buf, (int)cap, stdin) == NULL) {
		fprintf(stderr, "optroutectl: no number on stdin\n");
		return -EINVAL;
	}
	*len = strcspn(buf, "\r\n");
	buf[*len] = '\0';
	return 0;
}

/* Adds "number", "sealed" or "token" to the request. The number is wiped
 * from every buffer here, whatever happens. */
static int
ctl_add_subject(struct ctl *c, struct ctl_buf *b)
{
	char num[OR_E164_BUFSZ + 48];
	struct or_err err = { "" };
	size_t len = 0;
	int rc = 0;

	if (c->token != NULL) {
		struct or_token t;

		if (or_token_from_hex(c->token, strlen(c->token), &t, &err) <
		    0) {
			fprintf(stderr, "optroutectl: token: %s\n", err.msg);
			return CTL_EXIT_USAGE;
		}
		ctl_buf_add(b, ",\"token\":", 9);
		return ctl_buf_add_jstr(b, c->token, strlen(c->token));
	}
	if (c->sealed != NULL) {
		ctl_buf_add(b, ",\"sealed\":", 10);
		return ctl_buf_add_jstr(b, c->sealed, strlen(c->sealed));
	}
	if (c->number == NULL)
		return 0; /* none: ctl_cmd_check said it may be left out */
	if (strcmp(c->number, "-") == 0) {
		if (ctl_read_number(num, sizeof(num), &len) < 0)
			return CTL_EXIT_USAGE;
	} else {
		len = strlen(c->number);
		if (len >= sizeof(num))
			len = sizeof(num) - 1;
		memcpy(num, c->number, len);
		num[len] = '\0';
	}
	/* Checked here so that a typo never leaves this process. */
	if (or_e164_check(num, len, &err) < 0) {
		fprintf(stderr, "optroutectl: %s\n", err.msg);
		rc = CTL_EXIT_USAGE;
	} else if (c->seal) {
		uint8_t sealed[OR_SEAL_OVERHEAD + 64];
		char b64[sizeof(sealed) * 2];
		size_t slen;

		if (or_seal_number(c->seal_pk, num, len, sealed, sizeof(sealed),
				   &slen, &err) < 0) {
			fprintf(stderr, "optroutectl: seal: %s\n", err.msg);
			rc = CTL_EXIT_ERROR;
		} else {
			sodium_bin2base64(b64, sizeof(b64), sealed, slen,
					  sodium_base64_VARIANT_ORIGINAL);
			ctl_buf_add(b, ",\"sealed\":", 10);
			rc = ctl_buf_add_jstr(b, b64, strlen(b64));
		}
	} else {
		ctl_buf_add(b, ",\"number\":", 10);
		rc = ctl_buf_add_jstr(b, num, len);
	}
	sodium_memzero(num, sizeof(num));
	return rc < 0 ? CTL_EXIT_ERROR : rc;
}

/* Adds "pubkey" (--pubkey or --pubkey-file), checked here: base64 of 32
 * bytes; a file may also hold the 32 raw bytes. */
static int
ctl_add_pubkey(struct ctl *c, struct ctl_buf *b)
{
	uint8_t pk[OR_SEAL_PK_LEN + 1], raw[256];
	char b64[OR_PK_B64_BUFSZ];
	const char *s = c->pubkey;
	size_t len = 0, n = 0;
	FILE *f;

	if (c->pubkey_file != NULL) {
		f = fopen(c->pubkey_file, "rb");
		if (f == NULL) {
			fprintf(stderr, "optroutectl: %s: %s\n", c->pubkey_file,
				strerror(errno));
			return CTL_EXIT_USAGE;
		}
		n = fread(raw, 1, sizeof(raw) - 1, f);
		fclose(f);
		raw[n] = '\0';
		s = (const char *)raw;
		if (n == OR_SEAL_PK_LEN) {
			sodium_bin2base64(b64, sizeof(b64), raw, n,
					  sodium_base64_VARIANT_ORIGINAL);
			s = b64;
		} else {
			while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r' ||
					 raw[n - 1] == ' '))
				raw[--n] = '\0';
		}
	}
	if (or_base64_decode(s, strlen(s), pk, sizeof(pk), &len) < 0 ||
	    len != OR_SEAL_PK_LEN) {
		fprintf(stderr, "optroutectl: the phone's public key must be "
				"base64 of 32 bytes (X25519)\n");
		return CTL_EXIT_USAGE;
	}
	ctl_buf_add(b, ",\"pubkey\":", 10);
	return ctl_buf_add_jstr(b, s, strlen(s)) < 0 ? CTL_EXIT_ERROR : 0;
}

int
ctl_add_options(struct ctl *c, struct ctl_buf *b, int with_node)
{
	if (with_node && c->node >= 0)
		ctl_buf_printf(b, ",\"node\":%d", c->node);
	if (c->notice >= 0)
		ctl_buf_printf(b, ",\"notice\":%lld", c->notice);
	if (c->method != NULL) {
		ctl_buf_add(b, ",\"method\":", 10);
		ctl_buf_add_jstr(b, c->method, strlen(c->method));
	}
	if (c->wait == 2)
		ctl_buf_add(b, ",\"wait\":\"fleet\"", 15);
	else if (c->wait)
		ctl_buf_add(b, ",\"wait\":true", 12);
	if (c->clear)
		ctl_buf_add(b, ",\"clear\":true", 13);
	if (c->forget != NULL) {
		ctl_buf_add(b, ",\"forget\":", 10);
		ctl_buf_add_jstr(b, c->forget, strlen(c->forget));
	}
	if (c->after_seq > 0)
		ctl_buf_printf(b, ",\"after_seq\":%lld", c->after_seq);
	return 0;
}

int
ctl_request_build(struct ctl *c, struct ctl_buf *b)
{
	int rc = 0;

	ctl_buf_printf(b, "{\"v\":%d,\"id\":1,\"cmd\":\"%s\"", OR_MGMT_VERSION,
		       c->info->name);
	if (c->given & OR_MGMT_F_PUBKEY)
		rc = ctl_add_pubkey(c, b);
	if (rc == 0)
		rc = ctl_add_subject(c, b);
	if (rc == 0)
		rc = ctl_add_options(c, b, 1);
	if (rc == 0)
		rc = ctl_buf_add(b, "}\n", 2) < 0 ? CTL_EXIT_ERROR : 0;
	return rc;
}
